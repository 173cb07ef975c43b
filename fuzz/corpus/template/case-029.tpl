/x/$PASSWD/y
