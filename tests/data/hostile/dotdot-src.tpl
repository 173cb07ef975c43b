# A vhost template climbing out of a source with "..".
# expect: refused
/var/www/../../etc/shadow /srv/x,ro-bind
