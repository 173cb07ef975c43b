/tmp,tmp
/tmp/,tmpfs
