#!/usr/bin/env bash
# The page's release build: `trunk build --release`, compiled by the pinned nightly toolchain
# with the standard library rebuilt for the page (`build-std`, its `optimize_for_size`
# feature: smaller sorts and the like), panics that abort at once (`-Cpanic=immediate-abort`:
# no panic messages or their formatting code), no source locations (`-Zlocation-detail=none`)
# and no `Debug` formatting (`-Zfmt-debug=none`). Together some 40 KB gzip of the
# 360,000-byte budget (docs/benchmarks.md): what made room for the lesson panel. Only this build uses nightly: tests, the CLI and `trunk serve`
# use stable. scripts/setup.sh installs the toolchain (BPLAB_NIGHTLY below).
#
# Then the JS glue is minified (scripts/minify-glue.mjs, esbuild): Trunk does not.
#
#   scripts/trunk-release.sh [TRUNK ARGS…]     # e.g. --features share, --dist DIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/toolchain.sh
source "$ROOT/scripts/toolchain.sh"
export RUSTUP_TOOLCHAIN="$BPLAB_NIGHTLY"
export CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
export CARGO_UNSTABLE_BUILD_STD_FEATURES="optimize_for_size"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"
cd "$ROOT"
trunk build --release "$@"
# Trunk leaves wasm-bindgen's JS glue as written: minify it (and its integrity hash).
dist="$ROOT/dist"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --dist) dist="${args[i + 1]}" ;;
        --dist=*) dist="${args[i]#--dist=}" ;;
    esac
done
node "$ROOT/scripts/minify-glue.mjs" "$dist"
