/a '/b /c',bind'
