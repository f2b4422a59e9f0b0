#!/usr/bin/env python3
"""README's figures agree with docs/results.md.

Every figure in the README's "Figures" table is a summary of a measurement
whose table, command, date and machine live in docs/results.md, in a
section whose heading names its command (`## Canaries: `make canaries``).
A row's sections are those whose command appears in the row's command
column. This check takes each number in the row's figure column that could
only come from a measurement (a decimal, a percentage, a count with
thousands separators) and fails if none of the row's sections contains it:
a figure changed on one page and not the other, or one the results page
never measured there.
Usage: ci/check-figures.py [ROOT]"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
results = open(os.path.join(root, "docs", "results.md"), encoding="utf-8").read()

m = re.search(r"^## Figures\n(.*?)(?=^## )", readme, re.S | re.M)
if not m:
    sys.exit("check-figures: README.md has no '## Figures' section")
rows = [ln for ln in m.group(1).splitlines() if ln.startswith("|") and not ln.startswith("|---")][1:]
if not rows:
    sys.exit("check-figures: README.md's Figures table has no rows")

sections = []
for sec in re.split(r"(?m)^(?=## )", results):
    head = sec.splitlines()[0] if sec.startswith("## ") else ""
    for cmd in re.findall(r"`([^`]+)`", head):
        sections.append((cmd, sec))

# 1,000,000 / 98.8% / 163.9 / 0.027; a range like 0.80-1.15 gives both ends.
number = re.compile(r"\d{1,3}(?:,\d{3})+|\d+\.\d+%?|\d+%")
bad = []
for row in rows:
    cells = [c.strip() for c in row.strip("|").split("|")]
    if len(cells) < 3:
        bad.append(f"  {row}: not a row of three cells (what, figure, command)")
        continue
    mine = [sec for cmd, sec in sections
            if re.search(re.escape(cmd) + r"(?![\w-])", cells[2])]
    if not mine:
        bad.append(f"  {cells[0]}: no section of docs/results.md is headed by a command of \"{cells[2]}\"")
        continue
    for tok in number.findall(cells[1]):
        if not any(tok in sec for sec in mine):
            bad.append(f"  {cells[0]}: {tok} (in \"{cells[1]}\")")
if bad:
    print("check-figures: README.md's figures that docs/results.md does not have:")
    print("\n".join(bad))
    print("Measure again and replace the figure on both pages, or correct the README.")
    sys.exit(1)
print(f"check-figures: {len(rows)} README figures rows agree with docs/results.md")
