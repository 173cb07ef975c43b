# all2.tpl: copies, memory- and disk-backed dirs, mqueue, remount-ro,
# hostname, $GROUP with extra names.  See all1.tpl.

/usr,ro-bind
/lib,ro-bind-try
/lib32,ro-bind-try
/lib64,ro-bind-try
/bin,ro-bind-try
/sbin,ro-bind-try
/etc/ld.so.cache,ro-bind-try

/proc,proc
/dev,dev
/dev/mqueue,mqueue
/tmp,tmpfs                        # memory-backed, mode 01777
/run,tmpfs                        # memory-backed, mode 0755
/srv/frozen,tmpfs
/srv/frozen,remount-ro            # read-only after everything is set up
/var/tmp,tmp                      # disk-backed: $HOMEDIR/.nscell/var_tmp
$HOMEDIR/.nscell/all2-data /srv/data,tmp   # disk-backed, backing dir named
/run/user/$UID,dir
/srv/a/b/c,dir

# copies keep the mode; copy-try misses are dropped
/etc/hostname /etc/hostname-copy,copy
/etc/os-release,copy
/etc/os-release /srv/os-release-copy,copy-try
/nonexistent/nscell-missing /srv/miss-copy,copy-try

nscell-all2,hostname

$PASSWD
$GROUP,root,nogroup
