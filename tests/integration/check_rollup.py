# SPDX-License-Identifier: MIT
"""Checks rollup JSON objects against docs/rollup.schema.json (draft 2020-12)
with Debian's python3-jsonschema.

usage: check_rollup.py [--strict] SCHEMA FILE...     (FILE "-" is stdin)

Exit 0 if every file holds one object the schema accepts, 1 (with the path
and reason of each violation on stderr) otherwise, 2 on usage errors.

The schema is open, as published: a reader must accept keys added later.
--strict is for wmsync's own tests: it also refuses any key and any problem
kind the schema does not document, so a figure added to the code without
being added to the schema (and docs/rollup-json.md) fails the test suite.
"""
import copy
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check_rollup: python3-jsonschema is missing (packaging/deps.sh installs it)")

OPEN_KEYS = ("additionalProperties", "patternProperties", "unevaluatedProperties")


def close(node):
    """Every object schema that lists its properties admits no others."""
    if isinstance(node, dict):
        if "properties" in node and not any(k in node for k in OPEN_KEYS):
            node["unevaluatedProperties"] = False
        for v in node.values():
            close(v)
    elif isinstance(node, list):
        for v in node:
            close(v)


def documented_kinds(schema):
    return {c["if"]["properties"]["kind"]["const"] for c in schema["$defs"]["problem"]["allOf"]}


def main(argv):
    strict = "--strict" in argv
    args = [a for a in argv if a != "--strict"]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    kinds = documented_kinds(schema)
    if strict:
        schema = copy.deepcopy(schema)
        close(schema)
    validator = cls(schema)
    bad = 0
    for path in args[1:]:
        try:
            if path == "-":
                obj = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as f:
                    obj = json.load(f)
        except (OSError, ValueError) as e:
            print(f"{path}: not a JSON object: {e}", file=sys.stderr)
            bad += 1
            continue
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
        if strict and isinstance(obj, dict):
            for i, p in enumerate(obj.get("problems") or []):
                if isinstance(p, dict) and p.get("kind") not in kinds:
                    errors.append(jsonschema.ValidationError(
                        f"problem kind {p.get('kind')!r} is not documented",
                        path=["problems", i, "kind"]))
        for e in errors:
            where = "/".join(str(x) for x in e.absolute_path) or "(top)"
            print(f"{path}: {where}: {e.message}", file=sys.stderr)
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
