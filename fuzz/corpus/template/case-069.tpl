/a /b,proc
