/x,dir
!/x/y
