#!/usr/bin/env python3
"""Per-kernel GPU time from a CubeCL profiling log, largest first.

CubeCL (burn-cuda) times every kernel when its profiling logger is on; put a `cubecl.toml` in the
working directory of the run (strand then leaves CubeCL's configuration to that file):

    [compilation]
    cache = { file = "/root/.cache/strand/cubecl" }
    [autotune]
    cache = { file = "/root/.cache/strand/cubecl" }
    [profiling.logger]
    level = "basic"
    file = "/tmp/profile.log"

then `strand bench ... --device cuda` and `scripts/cubecl_profile.py /tmp/profile.log`.
Log lines look like `| 1.234ms    | kernel name`. Durations are summed per kernel name; the table
shows the share of the profiled total, calls and mean time.
"""

import re
import sys
from collections import defaultdict

UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
LINE = re.compile(r"^\|\s*([0-9.]+)(ns|µs|us|ms|s)\s*\|\s*(.+?)\s*$")


def main(path, top=30, width=110):
    total = defaultdict(float)
    calls = defaultdict(int)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.strip())
            if not m:
                continue
            seconds = float(m.group(1)) * UNITS[m.group(2)]
            name = m.group(3)
            total[name] += seconds
            calls[name] += 1
    if not total:
        sys.exit(f"no profiled kernels in {path}")
    grand = sum(total.values())
    print(f"{sum(calls.values())} kernel launches, {grand * 1e3:.1f} ms in all")
    print(f"{'share':>6} {'total ms':>9} {'calls':>6} {'mean µs':>8}  kernel")
    for name, t in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{100 * t / grand:5.1f}% {t * 1e3:9.2f} {calls[name]:6d} "
              f"{1e6 * t / calls[name]:8.1f}  {name[:width]}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], *(int(a) for a in sys.argv[2:3]))
