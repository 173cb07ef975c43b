# The host's /proc/sys bound read-write over the sandbox's read-only one.
# expect: runs (sysctls stay root's)
/proc/sys,bind
