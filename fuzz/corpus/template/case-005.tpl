proc
