# The nightly toolchain the page's release build uses (scripts/trunk-release.sh), pinned:
# a dated nightly builds the same bytes tomorrow. Sourced by setup.sh and trunk-release.sh.
BPLAB_NIGHTLY="nightly-2026-05-20"
