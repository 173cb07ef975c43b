# A directory of the user's as the sandbox's root: the user decides what is at /etc,
# /proc, /dev (symlinks planted there lead out of the home on the host).
# expect: runs or refused; nothing outside the home made or shown
$HOMEDIR/nscell-root /,bind
