copy
