# The host's procfs bound read-write over the sandbox's own.
# expect: runs (host processes stay out of reach, knobs stay root's)
/proc,bind
