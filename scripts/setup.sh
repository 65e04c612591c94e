#!/usr/bin/env bash
# Installs every tool Backpressure Lab needs to build and test, idempotently:
# each step checks what is there and prints one line, "skipped" or "installed".
#
#   scripts/setup.sh            # run it
#   source scripts/setup.sh     # run it and keep its PATH (node_modules/.bin first)
#
# What it installs (versions are pinned; see docs/commands.md):
#   - rustup components rustfmt and clippy
#   - rustup target wasm32-unknown-unknown
#   - the pinned nightly (scripts/toolchain.sh) with rust-src, for the page's release build
#   - trunk 0.21.14                  (cargo install --locked)
#   - mdbook 0.5.4                   (cargo install --locked, search only: builds the handbook)
#   - wasm-bindgen-cli = the wasm-bindgen version in Cargo.lock (cargo install, not --locked)
#     which also provides wasm-bindgen-test-runner
#   - Debian chromium + chromium-driver (apt-get, only if missing)
#   - npm devDependencies from package-lock.json (npm ci): playwright-core, binaryen (wasm-opt
#     132, put first on PATH for Trunk), axe-core and esbuild (minifies the page's JS glue)
#
# Trunk.toml's [tools] wasm_bindgen must equal Cargo.lock's wasm-bindgen version; the script
# stops with a message when they differ.

_bplab_setup() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

    local trunk_version="0.21.14"
    local mdbook_version="0.5.4"
    local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

    _say() { printf 'setup: %-22s %s\n' "$1" "$2"; }
    _die() { printf 'setup: ERROR: %s\n' "$*" >&2; return 1; }

    # PATH: npm's binaryen wasm-opt must win over any other wasm-opt (Debian's 108 miscompiles
    # wasm-bindgen's externref table); cargo-installed tools next.
    case ":$PATH:" in
        *":$cargo_bin:"*) ;;
        *) PATH="$cargo_bin:$PATH" ;;
    esac
    PATH="$root/node_modules/.bin:$PATH"
    export PATH

    command -v cargo >/dev/null || { _die "cargo not found (install Rust with rustup first)"; return 1; }
    command -v rustup >/dev/null || { _die "rustup not found"; return 1; }
    command -v npm >/dev/null || { _die "npm not found (Node.js 20+ is needed)"; return 1; }

    # --- versions the project pins ---------------------------------------------------------
    local wbg_version trunk_toml_wbg
    wbg_version="$(awk '
        $0 == "name = \"wasm-bindgen\"" { want = 1; next }
        want && /^version = / { gsub(/version = |"/, ""); print; exit }
        /^\[\[package\]\]/ { want = 0 }' "$root/Cargo.lock")"
    [ -n "$wbg_version" ] || { _die "no wasm-bindgen package found in Cargo.lock"; return 1; }
    trunk_toml_wbg="$(sed -n 's/^[[:space:]]*wasm_bindgen[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$root/Trunk.toml")"
    if [ "$trunk_toml_wbg" != "$wbg_version" ]; then
        _die "Trunk.toml [tools] wasm_bindgen = \"$trunk_toml_wbg\" but Cargo.lock has wasm-bindgen $wbg_version; set wasm_bindgen = \"$wbg_version\" in Trunk.toml"
        return 1
    fi

    # --- rustfmt and clippy (test.sh checks formatting and lints) ------------------------
    if cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1; then
        _say "rustfmt, clippy" "skipped (installed)"
    else
        rustup component add rustfmt clippy >/dev/null 2>&1 \
            || { _die "rustup component add rustfmt clippy failed"; return 1; }
        _say "rustfmt, clippy" "installed"
    fi

    # --- wasm32 target -----------------------------------------------------------------------
    if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        _say "wasm32 target" "skipped (installed)"
    else
        rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
            || { _die "rustup target add wasm32-unknown-unknown failed"; return 1; }
        _say "wasm32 target" "installed"
    fi

    # --- the pinned nightly for the page's release build (scripts/trunk-release.sh) ----------
    # shellcheck source=scripts/toolchain.sh
    source "$root/scripts/toolchain.sh"
    local sysroot
    if rustup run "$BPLAB_NIGHTLY" rustc --version >/dev/null 2>&1 \
        && sysroot="$(rustup run "$BPLAB_NIGHTLY" rustc --print sysroot)" \
        && [ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ] \
        && [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ]; then
        _say "$BPLAB_NIGHTLY" "skipped (installed)"
    else
        rustup toolchain install "$BPLAB_NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown >/dev/null 2>&1 \
            || { _die "rustup toolchain install $BPLAB_NIGHTLY failed"; return 1; }
        sysroot="$(rustup run "$BPLAB_NIGHTLY" rustc --print sysroot)"
        _say "$BPLAB_NIGHTLY" "installed (with rust-src and the wasm32 target)"
    fi
    # The standard library's own dependencies, for build-std under Trunk's --offline.
    rustup run "$BPLAB_NIGHTLY" cargo fetch --manifest-path "$sysroot/lib/rustlib/src/rust/library/Cargo.toml" >/dev/null 2>&1 \
        || { _die "cargo fetch of the standard library's dependencies failed"; return 1; }

    # cargo install builds in a throw-away directory, not in the project's target dir.
    # --- trunk -------------------------------------------------------------------------------
    if [ "$(trunk --version 2>/dev/null)" = "trunk $trunk_version" ]; then
        _say "trunk" "skipped ($trunk_version)"
    else
        echo "setup: trunk                  installing $trunk_version (takes ~7 min on 2 cores)..."
        env -u CARGO_TARGET_DIR cargo install --quiet --locked trunk --version "$trunk_version" \
            || { _die "cargo install trunk $trunk_version failed"; return 1; }
        _say "trunk" "installed ($trunk_version)"
    fi

    # --- mdbook (the handbook; no serve/watch features: the site is served as static files) ---
    if [ "$(mdbook --version 2>/dev/null)" = "mdbook v$mdbook_version" ]; then
        _say "mdbook" "skipped ($mdbook_version)"
    else
        echo "setup: mdbook                 installing $mdbook_version (takes ~5 min on 2 quiet cores)..."
        env -u CARGO_TARGET_DIR cargo install --quiet --locked mdbook --version "$mdbook_version" \
            --no-default-features --features search \
            || { _die "cargo install mdbook $mdbook_version failed"; return 1; }
        _say "mdbook" "installed ($mdbook_version)"
    fi

    # --- wasm-bindgen-cli (same version as Cargo.lock; --locked would fail, see TOOLCHAIN.md) --
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$wbg_version" ] \
        && [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" = "$wbg_version" ]; then
        _say "wasm-bindgen-cli" "skipped ($wbg_version)"
    else
        echo "setup: wasm-bindgen-cli       installing $wbg_version (takes ~2 min)..."
        env -u CARGO_TARGET_DIR cargo install --quiet --force wasm-bindgen-cli --version "$wbg_version" \
            || { _die "cargo install wasm-bindgen-cli $wbg_version failed"; return 1; }
        _say "wasm-bindgen-cli" "installed ($wbg_version)"
    fi

    # --- chromium + chromedriver (Debian; tests only: BPLAB_SETUP_NO_BROWSER=1 skips it) ------
    if [ "${BPLAB_SETUP_NO_BROWSER:-0}" = 1 ]; then
        _say "chromium" "skipped (BPLAB_SETUP_NO_BROWSER=1: building only)"
    elif command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
        _say "chromium" "skipped ($(chromium --version 2>/dev/null | awk '{print $2}'))"
    else
        local sudo=""
        if [ "$(id -u)" != 0 ]; then
            command -v sudo >/dev/null || { _die "need root or sudo to apt-get install chromium"; return 1; }
            sudo="sudo"
        fi
        echo "setup: chromium               installing chromium + chromium-driver with apt-get..."
        { $sudo apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver; } \
            >/tmp/bplab-apt.log 2>&1 \
            || { _die "apt-get install chromium chromium-driver failed (log: /tmp/bplab-apt.log)"; return 1; }
        _say "chromium" "installed ($(chromium --version 2>/dev/null | awk '{print $2}'))"
    fi

    # --- npm packages (npm ci when node_modules is missing or older than package-lock.json) ---
    local lock_hash stamp="$root/node_modules/.bplab-lock.sha256"
    lock_hash="$(sha256sum "$root/package-lock.json" | awk '{print $1}')"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] \
        && [ -x "$root/node_modules/.bin/wasm-opt" ] && [ -x "$root/node_modules/.bin/esbuild" ] \
        && [ -d "$root/node_modules/playwright-core" ]; then
        _say "npm packages" "skipped (node_modules matches package-lock.json)"
    else
        (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/tmp/bplab-npm.log 2>&1) \
            || { cat /tmp/bplab-npm.log >&2; _die "npm ci failed (log above)"; return 1; }
        echo "$lock_hash" >"$stamp"
        _say "npm packages" "installed (npm ci)"
    fi
    local wasm_opt
    wasm_opt="$(command -v wasm-opt)"
    if [ "$wasm_opt" != "$root/node_modules/.bin/wasm-opt" ]; then
        _die "wasm-opt on PATH is $wasm_opt, expected $root/node_modules/.bin/wasm-opt"
        return 1
    fi
    case "$(wasm-opt --version 2>/dev/null)" in
        *"version 132"*) ;;
        *) _die "wasm-opt is not binaryen 132: $(wasm-opt --version 2>&1)"; return 1 ;;
    esac
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Run as a command.
    set -euo pipefail
    _bplab_setup
else
    # Sourced: leave the caller's shell options alone; report failure through the return code.
    _bplab_setup || return 1
fi
