"" /b,bind
