# The host's whole /dev with device access.
# expect: runs (/dev/mem, disks: still root's)
/dev,dev-bind
