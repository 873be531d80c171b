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
for pair in examples:tests/fixtures/qti/examples demo:tests/fixtures/instruments/demo kennisnet:tests/fixtures/qti/kennisnet fidelity:tests/fixtures/qti/fidelity; do
  name=${pair%%:*}
  dir=$root/${pair#*:}
  [ -d "$dir" ] || continue
  "$kioskctl" instrument pack "$dir" --sign "$root/policies/demo-instrument.key" --out "$tmp/$name.exam" >/dev/null
  "$kioskctl" instrument render "$tmp/$name.exam" --trust "$root/policies/demo-instrument.key.pub" --key "$tmp/$name.exam.key" >"$tmp/$name.json"
  # Add `media`: every image path -> data: URI, as the shell should (docs/ui.md).
  python3 - "$tmp/$name.json" "$dir" >"$out/$name.json" <<'PY'
import base64, json, os, sys
model = json.load(open(sys.argv[1]))
root = sys.argv[2]
types = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml", "webp": "image/webp"}
media = {}
def walk(x):
    if isinstance(x, dict):
        if x.get("type") == "image" and x.get("src") not in media:
            path = os.path.join(root, x["src"])
            if os.path.isfile(path):
                kind = types.get(x["src"].rsplit(".", 1)[-1].lower())
                if kind:
                    media[x["src"]] = f"data:{kind};base64," + base64.b64encode(open(path, "rb").read()).decode()
        for v in x.values():
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(model)
model["media"] = media
json.dump(model, sys.stdout, ensure_ascii=False)
PY
  echo "$out/$name.json"
done
