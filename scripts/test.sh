#!/usr/bin/env bash
# The one command that runs every test of Backpressure Lab:
#   1. setup         scripts/setup.sh (idempotent tool installs)
#   2. native        cargo fmt --check, cargo clippy -D warnings (native, and wasm32 for the
#                    page), cargo test --workspace, scripts/check-handbook.py
#   3. wasm          cargo test --target wasm32-unknown-unknown -p backpressure-lab
#                    (wasm-bindgen-test-runner, headless Chromium through chromedriver)
#   4. site          scripts/build-site.sh: scripts/trunk-release.sh -> dist/, then the whole
#                    static site (app, examples, handbook, content, service worker, CSP)
#                    -> site/
#   5. size          scripts/check-size.sh: wasm + JS gzip -9 against the 360,000-byte
#                    download budget; fails when over, prints the margin
#   6. e2e           site/ served under a sub-path (http://127.0.0.1:PORT/backpressure-lab/);
#                    node --test tests/e2e/*.test.mjs (playwright-core driving
#                    /usr/bin/chromium; screenshots in tests/e2e/screenshots/)
#   7. bench         node scripts/bench-page.mjs: frame, engine and chart timings and the
#                    download size, printed only (never fails the run)
# Stops at the first failing phase with a non-zero exit; prints the time of every phase.
#
# Environment: CARGO_TARGET_DIR is honoured; BPLAB_SKIP_E2E=1 skips phase 6 (not for CI);
# BPLAB_SKIP_BENCH=1 skips phase 7.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

declare -a PHASE_NAMES=() PHASE_TIMES=() PHASE_RESULTS=()
SERVER_PID=""
SERVER_LOG=""
CURRENT_PHASE=""
PHASE_START=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

summary() {
    local i
    echo
    echo "== test.sh summary"
    for i in "${!PHASE_NAMES[@]}"; do
        printf '   %-12s %8ss  %s\n' "${PHASE_NAMES[$i]}" "${PHASE_TIMES[$i]}" "${PHASE_RESULTS[$i]}"
    done
}

cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [ -z "$SERVER_LOG" ] || rm -f "$SERVER_LOG"
    [ -z "${SERVE_ROOT:-}" ] || rm -rf "$SERVE_ROOT"
    if [ -n "$CURRENT_PHASE" ]; then
        # A phase was running when we exited: it failed.
        PHASE_NAMES+=("$CURRENT_PHASE")
        PHASE_TIMES+=("$(elapsed "$PHASE_START" "$(now)")")
        PHASE_RESULTS+=("FAILED")
    fi
    summary
    if [ "$rc" -ne 0 ]; then
        echo "test.sh: FAILED in phase '${CURRENT_PHASE:-?}' (exit $rc)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

begin() {
    CURRENT_PHASE="$1"
    PHASE_START="$(now)"
    echo
    echo "== [$1] $2"
}

end() {
    local result="ok"
    PHASE_NAMES+=("$CURRENT_PHASE")
    PHASE_TIMES+=("$(elapsed "$PHASE_START" "$(now)")")
    PHASE_RESULTS+=("$result")
    echo "== [$CURRENT_PHASE] $result in ${PHASE_TIMES[-1]}s"
    CURRENT_PHASE=""
}

# --- 1. setup -----------------------------------------------------------------------------
begin setup "scripts/setup.sh"
# shellcheck source=scripts/setup.sh
source "$ROOT/scripts/setup.sh"
end

# --- 2. native tests ----------------------------------------------------------------------
begin native "cargo fmt --check (rustfmt.toml), cargo clippy -D warnings, cargo test --workspace"
cargo fmt --all --check || { echo "test.sh: code is not formatted: run cargo fmt --all" >&2; exit 1; }
cargo clippy --workspace --all-targets -- -D warnings \
    || { echo "test.sh: clippy found problems (native)" >&2; exit 1; }
cargo clippy --target wasm32-unknown-unknown -p backpressure-lab --all-targets -- -D warnings \
    || { echo "test.sh: clippy found problems (the page, wasm32)" >&2; exit 1; }
# The page's `share` feature (links applied through the scenario's serde code, fields without a
# knob included; not shipped until it fits the budget) keeps compiling and linting.
cargo clippy --target wasm32-unknown-unknown -p backpressure-lab --lib --features share -- -D warnings \
    || { echo "test.sh: clippy found problems (the page with --features share, wasm32)" >&2; exit 1; }
cargo test --workspace
# The handbook: links and anchors resolve, every embed and app link decodes (bplab run
# --link), every quoted run still gives the quoted figures.
BPLAB="${CARGO_TARGET_DIR:-$ROOT/target}/debug/bplab" python3 "$ROOT/scripts/check-handbook.py"
end

# --- 3. wasm tests in headless Chromium ---------------------------------------------------
begin wasm "cargo test --target wasm32-unknown-unknown -p backpressure-lab (headless Chromium)"
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-60}"
# --lib --bins --tests: doctests are host-only and have nothing to say about the browser.
cargo test --target wasm32-unknown-unknown -p backpressure-lab --lib --bins --tests
end

# --- 4. release build ---------------------------------------------------------------------
begin site "scripts/build-site.sh (scripts/trunk-release.sh, handbook, service worker, CSP) -> site/"
BPLAB_SETUP_DONE=1 bash "$ROOT/scripts/build-site.sh" "$ROOT/site"
WASM_FILE="$(find "$ROOT/site" -maxdepth 1 -name '*.wasm' -print -quit)"
[ -n "$WASM_FILE" ] || { echo "test.sh: no .wasm in site/ after build-site.sh" >&2; exit 1; }
end

# --- 5. download budget (before e2e, so that it is printed when e2e fails) ---------------
begin size "wasm + JS gzip -9 within the download budget (scripts/check-size.sh)"
bash "$ROOT/scripts/check-size.sh" "$ROOT/site"
end

# --- 6. end-to-end tests ------------------------------------------------------------------
if [ "${BPLAB_SKIP_E2E:-0}" = 1 ] && [ "${CI:-}" != true ]; then
    echo
    echo "== [e2e] skipped (BPLAB_SKIP_E2E=1)"
    PHASE_NAMES+=("e2e"); PHASE_TIMES+=("0.0"); PHASE_RESULTS+=("skipped")
else
    begin e2e "serve site/ under /backpressure-lab/ on 127.0.0.1, node --test tests/e2e/*.test.mjs (playwright-core)"
    PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    SERVER_LOG="$(mktemp -t bplab-http.XXXXXX.log)"
    # Under a sub-path, as project-page hosting serves it: every URL must be relative.
    SERVE_ROOT="$(mktemp -d -t bplab-serve.XXXXXX)"
    ln -s "$ROOT/site" "$SERVE_ROOT/backpressure-lab"
    python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SERVE_ROOT" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    export BPLAB_URL="http://127.0.0.1:$PORT/backpressure-lab/"
    # Wait (at most 10 s) until the server answers with index.html.
    for _ in $(seq 1 100); do
        if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1).read()' "$BPLAB_URL" 2>/dev/null; then
            break
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$SERVER_LOG" >&2
            echo "test.sh: the static server for site/ died on port $PORT" >&2
            exit 1
        fi
        sleep 0.1
    done
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()' "$BPLAB_URL" \
        || { echo "test.sh: static server at $BPLAB_URL does not answer" >&2; exit 1; }
    echo "serving site/ at $BPLAB_URL (python3 http.server, pid $SERVER_PID)"
    mkdir -p "$ROOT/tests/e2e/screenshots"
    rm -f "$ROOT"/tests/e2e/screenshots/*.png
    echo "screenshots go to tests/e2e/screenshots/"
    node --test --test-reporter=spec "$ROOT"/tests/e2e/*.test.mjs
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    unset BPLAB_URL # the bench serves dist/ itself
    end
fi

# --- 7. performance figures (printed, never a failure) ----------------------------------
if [ "${BPLAB_SKIP_BENCH:-0}" = 1 ]; then
    echo
    echo "== [bench] skipped (BPLAB_SKIP_BENCH=1)"
    PHASE_NAMES+=("bench"); PHASE_TIMES+=("0.0"); PHASE_RESULTS+=("skipped")
else
    begin bench "node scripts/bench-page.mjs (figures only: incident-106 and consumer-group at 100× and 1000×)"
    BENCH_SECONDS="${BENCH_SECONDS:-8}" node "$ROOT/scripts/bench-page.mjs" || echo "bench-page: could not measure (not a test failure)"
    end
fi

