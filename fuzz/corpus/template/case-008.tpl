symlink
