#!/usr/bin/env bash
# Builds Backpressure Lab's whole static site into one folder (default site/):
#   /                 the simulator (scripts/trunk-release.sh; asset URLs relative, so the
#                     folder works at the root of a host or under any sub-path)
#   /examples/        the embed example chapter; /embed.js, the script that sizes embeds
#   /handbook/        the mdBook handbook (live embedded sims)
#   /content/         preset explanations, lessons and challenges, fetched by the page from
#                     its own origin (Trunk copies content/ into dist/)
#   /sw.js, manifest  offline use after the first visit (scripts/finish-site.py)
# Installs what is missing first (scripts/setup.sh). Idempotent.
#
#   scripts/build-site.sh [OUT]       # OUT defaults to site/
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$(realpath -m "${1:-$ROOT/site}")"
start=$(date +%s)

if [ "${BPLAB_SETUP_DONE:-0}" != 1 ]; then
    # shellcheck source=scripts/setup.sh
    source "$ROOT/scripts/setup.sh"
fi

"$ROOT/scripts/trunk-release.sh"
rm -rf "$OUT"
cp -r "$ROOT/dist" "$OUT"
if [ -d "$ROOT/handbook" ]; then
    mdbook build "$ROOT/handbook" --dest-dir "$OUT/handbook"
fi
# The page reads lessons and challenges as JSON (no TOML parser in the download): each
# teacher's TOML file, validated, becomes a .json beside it (docs/lessons.md).
cargo build -q -p bplab-cli
for f in "$OUT"/content/lessons/*.toml; do
    "${CARGO_TARGET_DIR:-$ROOT/target}/debug/bplab" lesson show "$f" > "${f%.toml}.json"
done
for f in "$OUT"/content/challenges/*.toml; do
    "${CARGO_TARGET_DIR:-$ROOT/target}/debug/bplab" challenges "$f" > "${f%.toml}.json"
done
cp "$ROOT"/web/register-sw.js "$ROOT"/web/sw.js "$ROOT"/web/manifest.webmanifest "$ROOT"/web/icon.svg "$OUT/"
python3 "$ROOT/scripts/finish-site.py" "$OUT"
echo "build-site: $OUT built in $(( $(date +%s) - start )) s"
