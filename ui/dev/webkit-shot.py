#!/usr/bin/python3
"""Screenshots of the preview in WebKitGTK, the engine the Tauri shell uses
on Linux (NOT part of the app). Chromium (shoot.mjs) runs the checks; this
shows the real engine's rendering.

    xvfb-run -a -s "-screen 0 1366x768x24" /usr/bin/python3 ui/dev/webkit-shot.py \
        --out /tmp/ui-shots-webkit login exam locked submitted
    # a real render model (render-fixtures.sh), its third page:
    ... webkit-shot.py 'exam&instrument=fidelity&page=2'

Needs apt packages python3-gi gir1.2-webkit2-4.1 xvfb; the preview served
on http://127.0.0.1:8765 (python3 -m http.server 8765 --bind 127.0.0.1 --directory ui).
"""

import argparse
import os
import re
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

BASE = os.environ.get("UI_BASE", "http://127.0.0.1:8765/dev/preview.html")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/ui-shots-webkit")
    ap.add_argument("states", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    win = Gtk.OffscreenWindow()
    win.set_default_size(1366, 768)
    view = WebKit2.WebView()
    view.set_size_request(1366, 768)
    settings = view.get_settings()
    settings.set_enable_developer_extras(False)
    settings.set_enable_write_console_messages_to_stdout(True)
    win.add(view)
    win.show_all()

    queue = list(args.states)
    failures = []

    def shoot(name):
        def done(v, res):
            try:
                surface = v.get_snapshot_finish(res)
                path = os.path.join(args.out, "{}.png".format(re.sub(r"[^\w.-]+", "_", name)))
                surface.write_to_png(path)
                print(f"shot {path}")
            except GLib.Error as e:  # pragma: no cover - reported below
                failures.append(f"{name}: {e.message}")
            GLib.idle_add(next_state)

        view.get_snapshot(WebKit2.SnapshotRegion.VISIBLE, WebKit2.SnapshotOptions.NONE, None, done)
        return False

    def on_load(v, event):
        if event == WebKit2.LoadEvent.FINISHED:
            GLib.timeout_add(800, shoot, current[0])

    current = [None]
    view.connect("load-changed", on_load)

    def next_state():
        if not queue:
            Gtk.main_quit()
            return False
        current[0] = queue.pop(0)
        view.load_uri(f"{BASE}?state={current[0]}")
        return False

    GLib.idle_add(next_state)
    GLib.timeout_add_seconds(120, lambda: (failures.append("timeout"), Gtk.main_quit()))
    Gtk.main()
    for f in failures:
        print(f"FAIL {f}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
