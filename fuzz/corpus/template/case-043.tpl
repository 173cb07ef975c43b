setenv FOO bar
