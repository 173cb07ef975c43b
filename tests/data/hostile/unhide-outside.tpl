# An exclusion outside the bind it follows.
# expect: refused
/usr,ro-bind
!/etc/shadow
