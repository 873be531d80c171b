# --- shared by preinst and prerm (inlined at packaging time) ---------------
EXAM_KIOSK_DATA_DIR=/var/lib/exam-kiosk

# Prints the phase and succeeds when a student is mid-sitting (see
# /usr/libexec/exam-kiosk/exam-in-progress, which this mirrors so that it
# also works before that file exists).
exam_in_progress() {
    state="$EXAM_KIOSK_DATA_DIR/state/session.json"
    [ -f "$state" ] || return 1
    phase=$(sed -n 's/.*"phase"[[:space:]]*:[[:space:]]*"\([a-z_]*\)".*/\1/p' "$state" | head -n 1)
    case "$phase" in
        assignment|download|waiting_for_start|in_exam) echo "$phase"; return 0 ;;
    esac
    return 1
}

# Records an installer event in the kiosk's signed journal (best effort:
# the kiosk may hold it, so at most 10 s), in syslog and on stderr.
journal_event() {
    kind="$1"; data="$2"
    if [ -x /usr/bin/kioskctl ] && [ -f "$EXAM_KIOSK_DATA_DIR/device.key" ] && getent passwd examkiosk >/dev/null; then
        timeout 10 runuser -u examkiosk -- /usr/bin/kioskctl journal append \
            --journal "$EXAM_KIOSK_DATA_DIR/journal" --store "file:$EXAM_KIOSK_DATA_DIR/device.key" \
            --kind "$kind" --data "$data" >/dev/null 2>&1 || true
    fi
    logger -t exam-kiosk -- "$kind $data" 2>/dev/null || true
    echo "exam-kiosk: $kind $data" >&2
}

# Refuses (exit 1) while an exam runs unless EXAM_KIOSK_FORCE=1; journalled either way.
refuse_during_exam() {
    action="$1"
    if phase=$(exam_in_progress); then
        if [ "${EXAM_KIOSK_FORCE:-0}" = "1" ]; then
            journal_event "installer.${action}_forced" "{\"phase\":\"$phase\"}"
        else
            journal_event "installer.${action}_refused" "{\"phase\":\"$phase\"}"
            echo "exam-kiosk: an exam is in progress on this PC (phase $phase); refusing to $action." >&2
            echo "exam-kiosk: wait until the sitting ends, or force it: sudo EXAM_KIOSK_FORCE=1 apt ..." >&2
            exit 1
        fi
    fi
}
# ---------------------------------------------------------------------------
