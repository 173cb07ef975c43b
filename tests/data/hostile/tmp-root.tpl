# A disk-backed tmp dir to be made below /root.
# expect: refused (made as the user, who may not)
/root/nscell-tmp /tmp,tmp
