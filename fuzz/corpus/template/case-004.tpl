/a, , ,bind, extra
