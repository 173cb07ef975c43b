etc/passwd,ro-bind
