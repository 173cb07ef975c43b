# For a user whose home is a symlink the user controls (the passwd home is
# below a directory the user owns): $HOMEDIR sources lead where it points.
# expect: runs (nothing the user could not reach on the host)
/tmp,tmpfs
$HOMEDIR/pub /data,ro-bind-try
