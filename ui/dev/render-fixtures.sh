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
for pair in examples:tests/fixtures/qti/examples demo:tests/fixtures/instruments/demo kennisnet:tests/fixtures/qti/kennisnet fidelity:tests/fixtures/qti/fidelity interactions:tests/fixtures/qti/interactions graphic:tests/fixtures/qti/graphic content:tests/fixtures/qti/content; do
  name=${pair%%:*}
  dir=$root/${pair#*:}
  [ -d "$dir" ] || continue
  "$kioskctl" instrument pack "$dir" --sign "$root/policies/demo-instrument.key" --out "$tmp/$name.exam" >/dev/null
  "$kioskctl" instrument render "$tmp/$name.exam" --trust "$root/policies/demo-instrument.key.pub" --key "$tmp/$name.exam.key" >"$tmp/$name.json"
  # Add `media`: every image, audio, video and caption path -> data: URI, as
  # the shell's exammedia: URLs do in the app (docs/ui.md).
  python3 - "$tmp/$name.json" "$dir" >"$out/$name.json" <<'PY'
import base64, json, os, sys
model = json.load(open(sys.argv[1]))
root = sys.argv[2]
types = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml", "webp": "image/webp",
         "mp3": "audio/mpeg", "m4a": "audio/mp4", "ogg": "audio/ogg", "oga": "audio/ogg", "wav": "audio/wav", "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "ogv": "video/ogg", "vtt": "text/vtt", "pdf": "application/pdf"}
media = {}
def add(src):
    path = os.path.join(root, src)
    kind = types.get(src.rsplit(".", 1)[-1].lower())
    if src not in media and kind and os.path.isfile(path):
        media[src] = f"data:{kind};base64," + base64.b64encode(open(path, "rb").read()).decode()
def walk(x):
    if isinstance(x, dict):
        # Images (type image), the graphic interactions' pictures (a bare
        # src), media interactions' sources and media nodes' sources,
        # caption tracks and posters.
        if x.get("type") == "image" or ("type" not in x and isinstance(x.get("src"), str)):
            add(x["src"])
        if x.get("type") == "media-interaction":
            for s in x.get("sources", []):
                add(s["src"])
        if x.get("type") == "media":
            for s in x.get("sources", []) + x.get("tracks", []):
                add(s["src"])
            if x.get("poster"):
                add(x["poster"])
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
