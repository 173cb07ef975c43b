# /etc/shadow as a symlink target, a bind and a copy.
# expect: runs (the user still cannot read it)
/etc/shadow /etc/nscell-shadow,symlink
/etc/shadow /srv/secret/shadow,ro-bind
/etc/shadow /srv/secret/shadow-copy,copy
