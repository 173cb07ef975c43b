# The host's /sys read-write.
# expect: runs (nothing in it writable by the user)
/sys,bind
