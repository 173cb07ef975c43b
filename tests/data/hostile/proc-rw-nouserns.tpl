# The host's procfs, and no user namespace of the sandbox's own.
# expect: refused (as root: a host procfs without a user namespace would lead to the host's /)
no-unshare-user
/proc,bind
