#!/usr/bin/env bash
# The download budget: the page's release wasm + its JS, gzip -9 (GNU gzip, as a visitor's
# server would compress them), must not exceed BUDGET bytes. Prints each file's raw and
# gzip size and the margin left; exits 1 when over budget.
#
#   scripts/check-size.sh [DIST]      # DIST defaults to dist/
#
# The budget is 360,000 bytes (ARCHITECTURE.md says which calls cost kilobytes).
set -euo pipefail

BUDGET=360000
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIST="${1:-$ROOT/dist}"

WASM_FILE="$(find "$DIST" -maxdepth 1 -name '*.wasm' -print -quit)"
# Every script the page loads: wasm-bindgen's glue and, in the built site, the one that
# registers the service worker. Not embed.js (host pages load it) nor sw.js (the worker,
# fetched in the background after the page has started).
mapfile -t JS_FILES < <(find "$DIST" -maxdepth 1 -name '*.js' ! -name 'embed.js' ! -name 'sw.js' | sort)
[ -n "$WASM_FILE" ] || { echo "check-size: no .wasm in $DIST" >&2; exit 1; }
[ "${#JS_FILES[@]}" -gt 0 ] || { echo "check-size: no .js in $DIST" >&2; exit 1; }

kib() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1024 }'; }
total=0
for f in "$WASM_FILE" "${JS_FILES[@]}"; do
    raw="$(wc -c <"$f")"
    gz="$(gzip -9 -c "$f" | wc -c)"
    total=$((total + gz))
    printf '%s: raw %d bytes (%s KiB)  gzip -9 %d bytes (%s KiB)\n' "$(basename "$f")" "$raw" "$(kib "$raw")" "$gz" "$(kib "$gz")"
done
margin=$((BUDGET - total))
printf 'wasm + JS: gzip -9 %d bytes of the %d-byte budget: ' "$total" "$BUDGET"
if [ "$margin" -ge 0 ]; then
    printf '%d bytes to spare\n' "$margin"
else
    printf 'OVER BUDGET by %d bytes\n' "$((-margin))"
    echo "check-size: the page's download is over budget; see ARCHITECTURE.md for the calls that cost kilobytes" >&2
    exit 1
fi
