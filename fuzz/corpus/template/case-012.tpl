/a /b zzzzzz
