# all1.tpl: binds of every kind (with -try misses), exclusions, the
# generated passwd with extra names.  Together with all2.tpl and all3.tpl
# it uses every command of the template language.  Sources exist on any
# Debian 12 machine; each file is a complete sandbox on its own.  Run it
# as a user with a home: disk-backed tmp dirs live in $HOMEDIR/.nscell.

# the system, read-only
/usr,ro-bind
/lib,ro-bind-try
/lib32,ro-bind-try
/lib64,ro-bind-try
/bin,ro-bind-try
/sbin,ro-bind-try
/etc/ld.so.cache,ro-bind-try
/etc/nsswitch.conf,ro-bind-try

/proc,proc
/dev,dev
/tmp,tmp
/var,dir
../tmp var/tmp,symlink            # relative destination: /var/tmp -> ../tmp

# every bind kind
/usr/share/common-licenses /srv/licenses,ro-bind
!/srv/licenses/GPL-3              # hidden, named by its destination
!/usr/share/common-licenses/Apache-2.0   # hidden, named by its source
/usr/share /srv/share,ro-bind-try
!/srv/share/base-files            # a hidden directory
/usr/share/doc /srv/doc-rw,bind
"/etc/hostname" /srv/hostname,bind-try
/dev/zero /srv/zero,dev-bind
/dev/null,/srv/null,dev-bind-try
/etc/os-release /srv/os-release   # two paths, no command: ro-bind-try
/usr/lib/os-release               # one path, no command: ro-bind-try

# -try misses: dropped without a word
/nonexistent/nscell-missing /srv/miss-bind,bind-try
/nonexistent/nscell-missing /srv/miss-ro,ro-bind-try
/nonexistent/nscell-missing /srv/miss-dev,dev-bind-try
/nonexistent/nscell-missing-implicit

# the user's own files
$HOMEDIR,bind-try

# only these entries, generated from NSS
$PASSWD,nobody,root
$GROUP
