# A disk-backed tmp dir pointed at /etc.
# expect: refused (not the user's directory)
/etc /tmp,tmp
