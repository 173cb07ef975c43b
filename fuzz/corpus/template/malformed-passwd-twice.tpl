$PASSWD
$PASSWD /etc/passwd2
