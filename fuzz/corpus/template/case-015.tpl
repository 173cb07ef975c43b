'/a b
