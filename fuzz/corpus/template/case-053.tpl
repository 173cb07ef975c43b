bind /a /b
