tmpfs,/tmp
