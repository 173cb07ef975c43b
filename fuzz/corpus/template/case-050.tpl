/x,unshare-net
