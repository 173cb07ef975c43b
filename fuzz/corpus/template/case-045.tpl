as-pid-1
