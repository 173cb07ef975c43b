# A destination through /proc/1/cwd: a magic link to the init's cwd.
# expect: refused
/usr/share /proc/1/cwd/nscell-x,ro-bind
