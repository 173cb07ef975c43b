/a /b /c ro-bind
