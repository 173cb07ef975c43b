relative /dest
