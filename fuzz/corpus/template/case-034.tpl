$GROUP,a:b
