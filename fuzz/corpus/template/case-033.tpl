$GROUP,nscell-no-such-group
