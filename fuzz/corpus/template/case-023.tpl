/a ../b,bind
