"/a $X",bind
