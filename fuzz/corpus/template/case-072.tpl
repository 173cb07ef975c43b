/a /b,symlinks
