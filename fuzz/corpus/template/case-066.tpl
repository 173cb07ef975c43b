/nonexistent/nscell-malformed,dev-bind
