$PASSWD,nscell-no-such-user
