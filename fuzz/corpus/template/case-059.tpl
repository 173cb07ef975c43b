no-unshare-user /x
