/x chdir
