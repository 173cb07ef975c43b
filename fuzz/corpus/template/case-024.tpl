/a/..,ro-bind
