a,hostname
b,hostname
