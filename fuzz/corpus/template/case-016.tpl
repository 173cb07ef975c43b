/a "/b,bind
