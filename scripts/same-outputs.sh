#!/usr/bin/env bash
# Checks that two builds of bplab give byte-identical output on every preset: `run --preset ID`
# with --format json and with --format csv (each preset at its own duration_s). For engine
# work that must not change results: build the reference first (e.g. from main), then
# compare. Prints one line per difference and a total; exits 1 on any difference.
# Usage: scripts/same-outputs.sh REFERENCE_BPLAB CANDIDATE_BPLAB
set -euo pipefail
a=${1:?reference bplab binary}
b=${2:?candidate bplab binary}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
differ=0
checked=0
for id in $("$a" presets); do
  for format in json csv; do
    "$a" run --preset "$id" --format "$format" >"$out/a"
    "$b" run --preset "$id" --format "$format" >"$out/b"
    checked=$((checked + 1))
    if ! cmp -s "$out/a" "$out/b"; then
      echo "differs: $id --format $format"
      differ=$((differ + 1))
    fi
  done
done
echo "$checked outputs compared, $differ differ"
[ "$differ" -eq 0 ]
