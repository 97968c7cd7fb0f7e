"""Run seattui's benchmarks: `python benchmarks/run.py [NAME ...]` (all when none is named).

Each prints JSON lines {"benchmark", "metric", "value", "unit"}, plus "baseline" and
"ratio" where the metric is compared with a baseline measured in the same run, and
"target" where an issue sets one.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = ["credits", "startup", "keys", "licenses_100k", "reassign_10k", "employees_100k", "license_files"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"bench_{name}")
        for figure in module.run():
            print(json.dumps({"benchmark": name, **figure}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
