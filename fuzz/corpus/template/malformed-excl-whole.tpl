/usr /srv/usr,ro-bind
!/usr
