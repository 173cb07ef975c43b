$USER/x,bind
