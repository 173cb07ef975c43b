/a "",bind
