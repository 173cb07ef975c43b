# The host's procfs, and no user namespace of the sandbox's own.
# expect: runs (a host process of the user must not lead to the host's /)
no-unshare-user
/proc,bind
