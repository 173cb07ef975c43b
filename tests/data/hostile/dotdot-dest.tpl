# A destination climbing out of the sandbox root with "..".
# expect: refused
/usr/share ../../../etc/nscell-x,ro-bind
