/a/../b,bind
