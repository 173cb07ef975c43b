#!/usr/bin/python3
"""Validate config.json files against the OCI runtime-spec JSON schema.

usage: oci_validate.py SCHEMA config.json...   (exit 1 on the first invalid file)
"""
import json
import os
import sys

import jsonschema


def main():
    schema_path = sys.argv[1]
    with open(schema_path) as f:
        schema = json.load(f)
    base = "file://" + os.path.dirname(os.path.abspath(schema_path)) + "/"
    resolver = jsonschema.RefResolver(base, schema)
    validator = jsonschema.Draft4Validator(schema, resolver=resolver)
    status = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            where = "/".join(str(p) for p in e.path)
            print(f"{path}: {where}: {e.message}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
