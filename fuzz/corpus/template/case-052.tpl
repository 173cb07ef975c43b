proc /proc
