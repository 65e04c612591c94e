#!/usr/bin/env bash
# Engine benchmarks that print figures (no pass/fail): M/M/1 at rho = 0.9 for 10^6 customers
# and one simulated hour of incident-106, and retention sweeping held records, each in its own
# process so peak memory is its own.
# With --simpy, also runs the same M/M/1 in SimPy (installed with pip if missing) and prints
# the ratio. Best of 20 and of 5 runs: this machine shares its cores, and a run that
# overlaps another tenant's burst is up to 1.5x slower (see docs/benchmarks.md).
# Usage: scripts/bench.sh [--simpy]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p bplab-cli
bin="${CARGO_TARGET_DIR:-target}/release/bplab"
mm1=$("$bin" bench mm1 --repeat 20)
echo "$mm1"
"$bin" bench incident-hour --repeat 5
"$bin" bench retention-held --repeat 5
if [ "${1:-}" = "--simpy" ]; then
  python3 -c "import simpy" 2>/dev/null || python3 -m pip install --quiet simpy
  simpy_line=$(python3 scripts/bench_simpy.py 200000)
  echo "$simpy_line"
  ours=$(sed -E 's/.*\(([0-9.]+) M\/s\), [0-9]+ events.*/\1/' <<<"$mm1")
  theirs=$(sed -E 's/.*\(([0-9.]+) M\/s\).*/\1/' <<<"$simpy_line")
  python3 -c "print(f'bplab / SimPy on M/M/1: {float(\"$ours\") / float(\"$theirs\"):.0f}x')"
fi
