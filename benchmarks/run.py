"""Run seattui's benchmarks: `python benchmarks/run.py [--smoke] [NAME ...]` (all when none is named).

Each prints JSON lines {"benchmark", "metric", "value", "unit"}, plus "baseline" and
"ratio" where the metric is compared with a baseline measured in the same run, and
"target" where an issue sets one.

`--smoke` runs each benchmark at a small size (seconds, not minutes), so CI proves that every
one still runs; its figures say nothing about speed and nothing checks them. A benchmark that
fails is reported on stderr, the others still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHMARKS = ["credits", "startup", "keys", "licenses_100k", "licenses_1m", "reassign_10k", "employees_100k",
              "customers_100k", "license_files",
              "billing_run", "portal_api", "seat_billing"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a small size of each benchmark: proves it runs, measures nothing")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(BENCHMARKS)}")
    options = parser.parse_args(argv)
    names = options.names or BENCHMARKS
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench_{name}")
            for figure in module.run(smoke=options.smoke):
                print(json.dumps({"benchmark": name, **figure}), flush=True)
        except Exception:  # every benchmark runs; each failure is told, and the run fails
            failed.append(name)
            print(f"benchmark {name} FAILED:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        if options.smoke:
            print(f"smoke: {name} took {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if failed:
        print(f"FAILED benchmark(s): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
