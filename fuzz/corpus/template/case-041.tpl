gid 100
