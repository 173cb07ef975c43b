/x,symlink
