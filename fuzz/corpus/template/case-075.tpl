/a /b,--ro-bind
