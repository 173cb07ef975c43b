/a no-unshare-user /b
