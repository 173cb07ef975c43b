unshare-all
