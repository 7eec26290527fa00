"""Example `verify-staging` step: pretend to smoke-test staging (stdlib only, always succeeds)."""

import sys

use_case, version, stage = (sys.argv[1:] + ["?", "?", "?"])[:3]
print(f"{stage}: {use_case} {version} answers on staging; smoke test passed")
