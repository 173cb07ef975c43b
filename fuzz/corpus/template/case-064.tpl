/nonexistent/nscell-malformed,bind
