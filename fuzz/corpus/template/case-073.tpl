/a /b,ro_bind
