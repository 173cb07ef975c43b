/a /b,RO-BIND
