/usr,copy
!/usr/x
