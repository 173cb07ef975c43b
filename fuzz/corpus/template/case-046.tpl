/a /b as-pid-1
