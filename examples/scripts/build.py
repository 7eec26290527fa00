"""Example `develop` step: pretend to build an artifact (stdlib only, always succeeds)."""

import sys

use_case, version = (sys.argv[1:] + ["?", "?"])[:2]
print(f"building {use_case} {version}")
print(f"artifact: dist/{use_case}-{version}.tar.gz")
