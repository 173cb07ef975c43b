/usr,ro-bind
!/etc/passwd
