/nonexistent/nscell-malformed,ro-bind
