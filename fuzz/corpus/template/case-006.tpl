  dev
