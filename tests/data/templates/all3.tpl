# all3.tpl: no-unshare-user, symlinks, $PASSWD/$GROUP at named
# destinations, quoting, remount-ro over a bind.  See all1.tpl.
# no-unshare-user keeps the caller's user namespace: run this one as root
# (a rootless launch needs a user namespace of its own).

no-unshare-user

'/usr',ro-bind
/lib,ro-bind-try
/lib32,ro-bind-try
/lib64,ro-bind-try
/bin,ro-bind-try
/sbin,ro-bind-try
/etc/ld.so.cache,ro-bind-try

/proc,proc
/dev,dev
/tmp,tmp
/var,dir

/usr/bin /srv/bin-link,symlink            # absolute target
../usr/share srv/share-link,symlink       # relative target and destination
/etc/os-release,ro-bind
/usr/share/base-files /srv/base-files,ro-bind-try
/srv/base-files,remount-ro
/usr/share/doc,"/srv/doc ro",ro-bind-try  # a destination with a blank

/srv/scratch,tmpfs
/srv/scratch/inner,dir

nscell-all3,hostname

# relayed to the host; left out where the host has no such program
/usr/sbin/nscell-no-such-mta,hostexec

$PASSWD /etc/passwd root
$GROUP /etc/group root
