#!/usr/bin/env bash
# Builds and serves Backpressure Lab's whole site locally: installs the tools
# (scripts/setup.sh), builds the site (scripts/build-site.sh: the simulator, the embed
# example, the handbook, lessons and challenges, offline support) into site/ and serves it
# as static files, as any web server or static host would.
#
#   scripts/serve.sh                 # http://127.0.0.1:8080/ (the handbook at /handbook/)
#   PORT=9000 scripts/serve.sh       # another port
#   scripts/serve.sh --dev           # while changing the page: `trunk serve` (debug build,
#                                    # rebuilt and reloaded on every change; app only)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"

PORT="${PORT:-8080}"
if [ "${1:-}" = "--dev" ]; then
    shift
    echo "serve: http://127.0.0.1:$PORT/  (trunk serve, debug build; Ctrl-C stops)"
    # From target/serve-dist, not dist/: this build carries Trunk's live-reload client.
    exec trunk serve --dist "$ROOT/target/serve-dist" --public-url / --address 127.0.0.1 --port "$PORT" "$@"
fi

BPLAB_SETUP_DONE=1 bash "$ROOT/scripts/build-site.sh" "$ROOT/site"
echo "serve: http://127.0.0.1:$PORT/  (the handbook: http://127.0.0.1:$PORT/handbook/; Ctrl-C stops)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$ROOT/site"
