$PASSWD /a /b
