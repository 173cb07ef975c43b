# The user's home with device access: a node planted there works.
# expect: runs (a mem node still needs CAP_SYS_RAWIO; no mknod inside)
$HOMEDIR,dev-bind
