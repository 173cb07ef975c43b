"/a b,bind
