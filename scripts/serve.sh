#!/usr/bin/env bash
# Builds and serves Backpressure Lab locally: installs the tools (scripts/setup.sh), then runs
# `trunk serve`, which rebuilds and reloads the page when a source file changes. It serves
# from target/serve-dist, not dist/: its build carries Trunk's live-reload client, which
# must never ship (dist/ is made only by `trunk build --release`).
#
#   scripts/serve.sh                 # release build at http://127.0.0.1:8080/
#   PORT=9000 scripts/serve.sh       # another port
#   scripts/serve.sh --dev           # debug build: compiles faster, runs slower
# Extra arguments are passed to trunk serve.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

PORT="${PORT:-8080}"
profile=(--release)
args=()
for arg in "$@"; do
    case "$arg" in
        --dev) profile=() ;;
        *) args+=("$arg") ;;
    esac
done

echo "serve: http://127.0.0.1:$PORT/  (first build takes a minute or two; Ctrl-C stops)"
exec trunk serve "${profile[@]}" --dist "$ROOT/target/serve-dist" --address 127.0.0.1 --port "$PORT" "${args[@]}"
