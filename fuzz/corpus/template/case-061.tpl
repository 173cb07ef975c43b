/a ro-bind /b
