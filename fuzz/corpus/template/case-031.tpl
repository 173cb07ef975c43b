$PASSWD,ro-bind
