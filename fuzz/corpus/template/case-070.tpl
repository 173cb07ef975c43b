x box,hostname
