"""A stand-in fleet for rehearsing rollouts in the simulator (stdlib only).

    fleet.py deploy <version> <targets>    put <version> on each target (comma-separated)
    fleet.py health <version> <wave>       check the fleet after a wave

Each target is a file in $FLEET_DIR (default ./fleet) holding the version it runs, so what the
bot says can be checked against what happened: `cat fleet/*`. examples/fleet.toml says which
versions fail their health check from which wave on, and which versions migrate data one way
(nothing can be deployed over them: a rollback fails there).
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

FLEET = Path(os.environ.get("FLEET_DIR", "fleet"))
RULES = Path(os.environ.get("FLEET_RULES", Path(__file__).resolve().parent.parent / "fleet.toml"))


def deploy(version: str, targets: list[str], rules: dict) -> int:
    FLEET.mkdir(exist_ok=True)
    one_way = set(rules.get("one_way", {}).get("versions", []))
    failed = []
    for target in targets:
        path = FLEET / target
        running = path.read_text().strip() if path.exists() else ""
        if running in one_way and running != version:
            failed.append(target)
            print(f"{target}: runs {running}, whose data migration {version} cannot read")
            continue
        path.write_text(version + "\n")
        print(f"{target}: {running or 'nothing'} -> {version}")
    if failed:
        print(f"{len(failed)} of {len(targets)} targets refused {version}: {', '.join(failed)}")
        return 1
    return 0


def health(version: str, wave: int, rules: dict) -> int:
    bad_from = rules.get("unhealthy", {}).get(version)
    if bad_from is not None and wave >= bad_from:
        print(f"{version}: error rate 7.3% after wave {wave} (budget 1%)")
        return 1
    print(f"{version}: error rate 0.2% after wave {wave}")
    return 0


def main(args: list[str]) -> int:
    rules = tomllib.loads(RULES.read_text()) if RULES.exists() else {}
    if len(args) == 3 and args[0] == "deploy":
        return deploy(args[1], [t for t in args[2].split(",") if t], rules)
    if len(args) == 3 and args[0] == "health":
        return health(args[1], int(args[2] or 0), rules)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
