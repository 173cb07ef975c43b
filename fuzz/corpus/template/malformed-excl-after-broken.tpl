/usr /b ro-bind extra
!/b/x
!/b/y
