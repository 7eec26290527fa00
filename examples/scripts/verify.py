"""Example `verify` step: pretend to run the test suite (stdlib only, always succeeds)."""

import sys

use_case, version = (sys.argv[1:] + ["?", "?"])[:2]
for check in ("unit tests", "data contract", "model metrics"):
    print(f"{use_case} {version}: {check} passed")
