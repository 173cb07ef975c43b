/usr,ro-bind
"/a b,bind
