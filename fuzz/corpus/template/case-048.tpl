/a /b cap-add
