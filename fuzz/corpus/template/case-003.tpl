/a /b /c /d
