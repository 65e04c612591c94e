#!/usr/bin/env bash
# The phase-map benchmark (prints figures, no pass/fail): a 20 x 20 sweep of incident-106,
# producer.rate_per_s 1,000..20,000 (linear) x consumer.rate_per_worker 100..5,000 (log),
# 300 simulated seconds a point, on every core, at the engine's default 1 ms resolution and
# at the coarser resolutions given (default 5 and 10 ms). Prints each sweep's points/s and
# simulated seconds/s (bplab sweep --timing) and, for each coarse sweep, how far its outcomes
# are from the exact one: regions that differ, OOM outcomes that flip, the first OOM's time,
# lost and p99 latency.
# Usage: scripts/bench-sweep.sh [RESOLUTION_MS...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p bplab-cli
bin="${CARGO_TARGET_DIR:-target}/release/bplab"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sweep() {
  "$bin" sweep --preset incident-106 --set "sim.resolution_ms=$1" \
    --vary producer.rate_per_s=1000:20000:20 --vary consumer.rate_per_worker=100:5000:20:log \
    --metric oom,lost,p99 --duration 300 --timing >"$out/res$1.csv"
}
echo "resolution 1 ms (exact, the default):"
sweep 1
for r in "${@:-5 10}"; do
  for r1 in $r; do
    echo "resolution $r1 ms:"
    sweep "$r1"
    python3 - "$out/res1.csv" "$out/res$r1.csv" <<'PY'
import csv, sys
exact, coarse = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
pairs = list(zip(exact, coarse))
n = len(pairs)
regions = sum(a["region"] != b["region"] for a, b in pairs)
flips = sum((a["first_oom_s"] == "") != (b["first_oom_s"] == "") for a, b in pairs)
oom = [abs(float(a["first_oom_s"]) - float(b["first_oom_s"])) for a, b in pairs if a["first_oom_s"] and b["first_oom_s"]]
lost = [abs(float(a["lost"]) - float(b["lost"])) / max(1.0, float(a["lost"])) for a, b in pairs]
p99 = [abs(float(a["latency_p99_s"]) - float(b["latency_p99_s"])) for a, b in pairs if a["latency_p99_s"] and b["latency_p99_s"]]
p99.sort()
lost_sorted = sorted(lost)
q = lambda xs, f: xs[min(len(xs) - 1, int(f * len(xs)))]
print(f"  against exact: regions differ at {regions}/{n} points, OOM or not flips at {flips}; "
      f"first OOM time off by at most {max(oom, default=0):.3f} s (mean {sum(oom)/max(1,len(oom)):.4f} s over {len(oom)} OOM points); "
      f"lost off by at most {100*max(lost):.2f}% (90th percentile {100*q(lost_sorted, 0.9):.2f}%); "
      f"p99 latency off by at most {p99[-1]*1e3:.1f} ms (90th percentile {q(p99, 0.9)*1e3:.2f} ms, median {q(p99, 0.5)*1e3:.2f} ms)")
PY
  done
done
