!relative
