#!/usr/bin/env python3
"""Fails if a ctest test has no TIMEOUT: a hang must fail fast, not hold CI.
Usage: check_timeouts.py CTEST BUILD_DIR"""
import json
import subprocess
import sys

ctest, build = sys.argv[1], sys.argv[2]
out = subprocess.run([ctest, "--show-only=json-v1"], cwd=build, check=True,
                     capture_output=True, text=True).stdout
tests = json.loads(out)["tests"]
missing = [t["name"] for t in tests
           if not any(p["name"] == "TIMEOUT" for p in t.get("properties", []))]
if missing:
    print("tests without a TIMEOUT:", " ".join(missing))
    sys.exit(1)
print(f"all {len(tests)} tests have a TIMEOUT")
