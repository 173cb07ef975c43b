# A destination through /proc/self/root: a magic link to the builder's root.
# expect: refused
/usr/share /proc/self/root/etc/nscell-x,ro-bind
