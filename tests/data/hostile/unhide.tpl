# An exclusion that tries to name the bound tree's parent to undo a mask.
# expect: refused
$HOMEDIR,bind
!$HOMEDIR/nscell-secret
!$HOMEDIR/nscell-secret/..
