/nonexistent/nscell-malformed,copy
