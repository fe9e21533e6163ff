"""Print constraints.txt as it applies to another Python version (markers evaluated for that version).

pip evaluates a constraint's environment marker for the running interpreter even with --python-version,
so the dry-run resolution for 3.12/3.13 in .ci/run reads the constraints through this first.
Usage: python constraints_for.py 3.13 constraints.txt
"""

import sys

from packaging.requirements import Requirement

version, path = sys.argv[1], sys.argv[2]
env = {"python_version": version, "python_full_version": version + ".0"}
for line in open(path, encoding="utf-8"):
    text = line.split("#", 1)[0].strip()
    if not text:
        continue
    requirement = Requirement(text)
    if requirement.marker is None or requirement.marker.evaluate(env):
        requirement.marker = None
        print(requirement)
