/a /b die-with-parent
