cap-add
