/a /b ro-bind extra
