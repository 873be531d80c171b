#!/bin/sh
# Packs the repository's QTI fixtures with the demo approval key and writes
# kiosk-core's real render model for each into ui/dev/fixtures/NAME.json
# (git-ignored), for preview.html?state=exam&instrument=NAME.
# Needs a built kioskctl (cargo build -p kioskctl). NOT part of the app.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
kioskctl=${KIOSKCTL:-$root/target/debug/kioskctl}
out=$root/ui/dev/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
for pair in examples:tests/fixtures/qti/examples demo:tests/fixtures/instruments/demo kennisnet:tests/fixtures/qti/kennisnet; do
  name=${pair%%:*}
  dir=$root/${pair#*:}
  [ -d "$dir" ] || continue
  "$kioskctl" instrument pack "$dir" --sign "$root/policies/demo-instrument.key" --out "$tmp/$name.exam" >/dev/null
  "$kioskctl" instrument render "$tmp/$name.exam" --trust "$root/policies/demo-instrument.key.pub" --key "$tmp/$name.exam.key" >"$out/$name.json"
  echo "$out/$name.json"
done
