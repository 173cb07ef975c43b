# nscell built-in default template (the LiteSpeed "namespace containers" default).
#
# One entry a line: SOURCE [DEST],COMMAND.  No command means ro-bind-try.
# Installed under $(datadir)/nscell/default.tpl and compiled into the tools:
# it applies when neither -f nor nscell.conf names a server template.

# a private, disk-backed /tmp in the user's home ($HOMEDIR/.nscell/tmp)
/tmp,tmp

# the system, read-only
/usr,ro-bind
/lib,ro-bind-try
/lib32,ro-bind-try
/lib64,ro-bind-try
/bin,ro-bind-try
/sbin,ro-bind-try

/var,dir
/var/www,ro-bind-try
/proc,proc
../tmp var/tmp,symlink
/dev,dev

# what programs need from /etc
/etc/localtime,ro-bind-try
/etc/ld.so.cache,ro-bind-try
/etc/ld.so.conf,ro-bind-try
/etc/ld.so.conf.d,ro-bind-try
/etc/resolv.conf,ro-bind-try
/etc/hosts,ro-bind-try
/etc/nsswitch.conf,ro-bind-try
/etc/ssl,ro-bind-try
/etc/pki,ro-bind-try
/etc/alternatives,ro-bind-try
/etc/man_db.conf,ro-bind-try
/etc/mime.types,ro-bind-try

# the user's own files
$HOMEDIR,bind-try
/run/user/$UID,dir

# only the user's own passwd and group entries
$PASSWD
$GROUP

# PHP
/etc/php,ro-bind-try
/etc/php.ini,ro-bind-try
/etc/php.d,ro-bind-try
/etc/php-fpm.conf,ro-bind-try
/etc/php-fpm.d,ro-bind-try

# database sockets: bind their directories, so a restarted server's new
# socket is seen without rebuilding the sandbox
/run/mysqld,ro-bind-try
/var/run/mysqld,ro-bind-try
/var/lib/mysql/mysql.sock,ro-bind-try
/run/postgresql,ro-bind-try
