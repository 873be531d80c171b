//! The wire form of the vocabulary: for every kind, a payload exactly as the
//! kiosk wrote it before the vocabulary was typed (the `json!` objects and
//! serialised structs of kiosk-core and the shell, byte for byte), read into
//! the enum and written back identical.

use super::*;
use serde_json::json;
use std::collections::BTreeSet;

/// (kind, payload as the kiosk has always written it). One or more per kind;
/// [`every_kind_has_a_wire_sample`] fails when a kind has none.
const WIRE: &[(&str, &str)] = &[
    ("session.transition", r#"{"cause":{"by":"inv-1","reason":"ok","trigger":"unlock"},"from":"locked","to":"in_exam"}"#),
    ("session.transition", r#"{"cause":{"trigger":"exam_started"},"from":"waiting_for_start","to":"in_exam"}"#),
    ("session.clock_set", r#"{"remaining_ms":5400000,"source":"hub"}"#),
    ("session.time_added", r#"{"reason":"storing","seconds":600}"#),
    ("session.clock_paused", r#"{"reason":"brandalarm"}"#),
    ("session.unlock_failed", r#"{"reason":"onjuiste pincode"}"#),
    ("session.resume_abandoned", r#"{"by":"inv-1","reason":"session unknown"}"#),
    ("session.resumed", r#"{"answers_saved":12,"clock_stopped_ms":4000,"sitting":"s-1"}"#),
    ("session.login_failed", r#"{"reason":"te lang","student":"123","student_bytes":70000}"#),
    ("session.login_failed", r#"{"reason":"onbekend","student":"123"}"#),
    ("session.login", r#"{"sitting":"s-1","student":"123456"}"#),
    ("session.token_not_saved", r#"{"reason":"disk full"}"#),
    ("session.clock_not_saved", r#"{"reason":"disk full"}"#),
    ("session.lock_requested", r#"{"name":"chat","pid":42,"reason":"process not ended"}"#),
    (
        "guard.process_ended",
        r#"{"pid":42,"name":"anydesk","exe":"/opt/anydesk","rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"result":"ended","signal":"SIGTERM"},"handling_us":1200,"trusted_display_client":false}"#,
    ),
    (
        "guard.process_would_end",
        r#"{"pid":42,"name":"anydesk","exe":null,"rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"result":"would-end"},"handling_us":0,"trusted_display_client":false}"#,
    ),
    (
        "guard.process_exited",
        r#"{"pid":42,"name":"anydesk","exe":null,"rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"result":"already-gone"},"handling_us":5,"trusted_display_client":false}"#,
    ),
    (
        "guard.process_not_ended",
        r#"{"pid":42,"name":"anydesk","exe":null,"rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"result":"not-ended","reason":"EPERM"},"handling_us":9,"trusted_display_client":true}"#,
    ),
    ("guard.accommodations_granted", r#"{"tools":["screen-reader"]}"#),
    ("guard.restart_failed", r#"{"reason":"no helper"}"#),
    ("guard.started", r#"{"enforcement":"report","policy":"p.toml"}"#),
    ("guard.stopped", r#"{"events":3}"#),
    ("sync.journal_refused", r#"{"reason":"chain broken"}"#),
    ("sync.journal_damaged", r#"{"reason":"from record 4: damaged"}"#),
    ("sync.offline", r#"{}"#),
    ("sync.online", r#"{}"#),
    ("answers.kept_apart", r#"{"final":false,"seq":4,"sha256":"ab"}"#),
    ("answers.acknowledged", r#"{"final":true,"seq":4,"sha256":"ab","stored":true}"#),
    ("answers.upload_failed", r#"{"reason":"unreachable","seq":4}"#),
    ("answers.upload_refused", r#"{"error":"session_ended","reason":"hub said no","saved":5,"seq":4}"#),
    ("answers.moved_in", r#"{"from_device":"dev-a","seq":9,"set_aside":{"first":7,"last":8}}"#),
    ("answers.moved_in", r#"{"from_device":"dev-a","seq":9,"set_aside":null}"#),
    ("answers.refused", r#"{"item":"q1","reason":"too large"}"#),
    ("answers.save_failed", r#"{"item":"q1","reason":"disk full"}"#),
    ("answers.save_recovered", r#"{"failures":2,"item":"q1","last_reason":"disk full","seq":7}"#),
    (
        "instruction.applied",
        r#"{"by":"inv-1","id":"i-1","instruction":{"add_time":{"minutes":10}},"outcome":"done","reason":"storing","session":null}"#,
    ),
    ("instruction.end_failed", r#"{"id":"i-1","reason":"no receipt"}"#),
    ("instruction.end_failed", r#"{"id":"i-1","reason":"no receipt","still_locked":true}"#),
    ("instruction.not_remembered", r#"{"id":"i-1","reason":"disk full"}"#),
    ("instrument.download_retried", r#"{}"#),
    ("instrument.download_failed", r#"{"reason":"timeout"}"#),
    ("instrument.refused", r#"{"instrument":"ex-1","reason":"bad signature"}"#),
    ("instrument.downloaded", r#"{"instrument":"ex-1","sha256":"cd"}"#),
    ("instrument.opened", r#"{"instrument":"ex-1"}"#),
    ("location.approved", r#"{"evidence":["interface_cidr","beacon"],"location":"B2.14"}"#),
    ("location.refused", r#"{"missing":["beacon"],"outcome":"refused"}"#),
    ("location.awaiting_room_code", r#"{"missing":["room_code"],"outcome":"refused"}"#),
    ("location.room_code_state_not_saved", r#"{"reason":"disk full"}"#),
    ("lockdown.event", r#"{"event":"SysRqBlocked"}"#),
    ("lockdown.engaged", r#"{"applied":["sysrq"]}"#),
    ("lockdown.released", r#"{"released":{"Ok":["sysrq"]}}"#),
    ("environment.checked", r#"{"action":"allow","findings":[{"action":"warn","check":"vm","detected":false,"evidence":[]}]}"#),
    ("clock.unchecked", r#"{"reason":"the hub did not answer"}"#),
    ("clock.checked", r#"{"hub_ms":1000,"kiosk_ms":1500,"skew_ms":500,"tolerance_ms":120000}"#),
    ("clock.far_off", r#"{"hub_ms":1000,"kiosk_ms":1001000,"skew_ms":1000000,"tolerance_ms":120000}"#),
    ("kiosk.focus_lost", r#"{"phase":"in_exam"}"#),
    ("kiosk.focus_lost", r#"{"phase":null}"#),
    ("kiosk.focus_regained", r#"{"after_ms":300,"phase":"in_exam"}"#),
    ("kiosk.focus_away", r#"{"away_ms":3000,"demo":false,"locks":true,"policy_locks":true}"#),
    ("kiosk.window_disturbed", r#"{"locks":true,"phase":"in_exam","what":"iconified"}"#),
    ("kiosk.window_restored", r#"{"after_ms":20}"#),
    ("kiosk.close_refused", r#"{"phase":"in_exam"}"#),
    ("kiosk.second_instance_refused", r#"{"attempts":2,"phase":"login"}"#),
    ("kiosk.keyboard_grab_failed", r#"{"for_ms":2000}"#),
    ("kiosk.keyboard_grab_taken", r#"{}"#),
    ("kiosk.window_covered", r#"{"windows":[{"title":"x"}]}"#),
    ("kiosk.window_uncovered", r#"{"after_ms":10}"#),
    ("kiosk.picker_refused", r#"{"picker":"color"}"#),
    ("kiosk.developer_extras_off", r#"{"switched_off":true}"#),
    ("kiosk.ui_ready", r#"{}"#),
    ("kiosk.environment_cleared", r#"{"names":["LD_PRELOAD","GTK_MODULES"]}"#),
    ("kiosk.test_automation", r#"{"webdriver":true}"#),
    ("kiosk.signal", r#"{"signal":"SIGTERM"}"#),
    ("kiosk.clipboard_retaken", r#"{"selection":"CLIPBOARD","takes":5}"#),
    ("kiosk.clipboard_isolated", r#"{"selections":["CLIPBOARD","PRIMARY"]}"#),
    ("kiosk.read_aloud", r#"{"audio_ms":5200,"chars":98,"rate":165,"words":17}"#),
    ("web_instrument.blocked", r#"{"seen_by":"request","url":"https://example.org/"}"#),
    ("tools.calculator_used", r#"{"item":"q1","kind":"basic","count":3}"#),
    ("tools.spell_check_used", r#"{"item":"q4","kind":"nl","count":2}"#),
];

/// The one change in bytes (not in JSON): a guard event's nested open
/// values (`reason`, `detected_by`, `outcome`) were written in kiosk-core's
/// struct order and are now written with their keys sorted, as every other
/// nested object in the journal already was. (today's bytes, now)
const NESTED_KEYS_SORTED: &[(&str, &str)] = &[
    (
        r#"{"pid":42,"name":"anydesk","exe":null,"rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"result":"not-ended","reason":"EPERM"},"handling_us":9,"trusted_display_client":true}"#,
        r#"{"pid":42,"name":"anydesk","exe":null,"rule":"deny:anydesk","reason":{"kind":"name"},"detected_by":"poll","outcome":{"reason":"EPERM","result":"not-ended"},"handling_us":9,"trusted_display_client":true}"#,
    ),
];

#[test]
fn every_kind_has_a_wire_sample() {
    let sampled: BTreeSet<&str> = WIRE.iter().map(|(k, _)| *k).collect();
    let all: BTreeSet<&str> = KioskEvent::ALL_KINDS.iter().copied().collect();
    assert_eq!(all.len(), KioskEvent::ALL_KINDS.len(), "a kind is listed twice");
    let missing: Vec<_> = all.difference(&sampled).collect();
    assert!(missing.is_empty(), "kinds without a wire sample: {missing:?}");
    let unknown: Vec<_> = sampled.difference(&all).collect();
    assert!(unknown.is_empty(), "samples of kinds the vocabulary does not have: {unknown:?}");
}

/// The wire form does not change: kind and payload bytes read into the enum
/// and written back are identical, and the whole enum serialises as
/// `{"kind", "payload"}`.
#[test]
fn the_wire_form_round_trips_byte_for_byte() {
    for (kind, payload) in WIRE {
        let value: Value = serde_json::from_str(payload).unwrap();
        let event = KioskEvent::from_parts(kind, &value).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(event.kind(), *kind);
        let written = NESTED_KEYS_SORTED.iter().find(|(today, _)| today == payload).map_or(*payload, |(_, now)| *now);
        assert_eq!(serde_json::from_str::<Value>(written).unwrap(), value, "{kind}: the JSON changed");
        assert_eq!(serde_json::to_string(&event.payload()).unwrap(), written, "{kind}");
        assert_eq!(serde_json::to_value(&event).unwrap(), json!({"kind": kind, "payload": value}), "{kind}");
        let back: KioskEvent = serde_json::from_value(json!({"kind": kind, "payload": value})).unwrap();
        assert_eq!(back, event, "{kind}");
    }
}

/// Every variant: its kind is in ALL_KINDS, a constant in `kinds`, and it
/// reads back as itself.
#[test]
fn every_variant_reads_back_as_itself() {
    let examples = KioskEvent::examples();
    assert_eq!(examples.len(), KioskEvent::ALL_KINDS.len());
    for (event, kind) in examples.iter().zip(KioskEvent::ALL_KINDS) {
        assert_eq!(event.kind(), *kind);
        assert!(KioskEvent::is_known_kind(kind));
        assert_eq!(KioskEvent::from_parts(kind, &event.payload_json()).as_ref(), Ok(event), "{kind}");
    }
    assert_eq!(kinds::SESSION_TRANSITION, "session.transition");
    assert_eq!(kinds::KIOSK_ENVIRONMENT_CLEARED, "kiosk.environment_cleared");
}

/// Lenient readers: a summarised (oversized) payload, a null payload, extra
/// fields of a newer kiosk read as the kind with defaults; an unknown kind
/// is an error the caller keeps the event for, a payload of wrong types too.
#[test]
fn readers_are_lenient_and_unknown_kinds_are_reported() {
    let summary = json!({"summarised": true, "bytes": 70000, "sha256": "00", "prefix": "{\"student\":\"1111"});
    assert_eq!(
        KioskEvent::from_parts("session.login_failed", &summary),
        Ok(KioskEvent::SessionLoginFailed(LoginFailed::default()))
    );
    assert_eq!(KioskEvent::from_parts("sync.offline", &Value::Null), Ok(KioskEvent::SyncOffline(Empty {})));
    assert_eq!(
        KioskEvent::from_parts("kiosk.signal", &json!({"signal": "SIGINT", "new_field": 1})),
        Ok(KioskEvent::KioskSignal(Signal { signal: "SIGINT".into() }))
    );
    assert_eq!(KioskEvent::from_parts("session.boot", &json!({"profile": "demo"})), Err(ReadError::UnknownKind));
    assert!(matches!(KioskEvent::from_parts("session.time_added", &json!({"seconds": "ten"})), Err(ReadError::Payload(_))));
    // Lenient reading keeps it, as the kind with a default payload.
    assert_eq!(
        KioskEvent::read_lenient("session.time_added", &json!({"seconds": "ten"})),
        Some(KioskEvent::SessionTimeAdded(TimeAdded::default()))
    );
    assert_eq!(KioskEvent::read_lenient("session.boot", &json!({})), None);
}

/// Review of the vocabulary: one field of an unexpected type blanked every
/// field of the event — a transition with `"from": null` lost its trigger
/// and reason (the lock was missing from the proces-verbaal) — and a clock
/// check without a measured skew read as a skew of 0 (the hub then trusted
/// the kiosk's clock for the saves after it).
#[test]
fn a_field_of_the_wrong_type_costs_only_that_field() {
    let odd = json!({"cause": {"trigger": "lock", "reason": "telefoon"}, "from": null, "to": "locked"});
    let Some(KioskEvent::SessionTransition(t)) = KioskEvent::read_lenient("session.transition", &odd) else { panic!("not read") };
    assert_eq!(t.cause.get("trigger").and_then(Value::as_str), Some("lock"));
    assert_eq!(t.cause.get("reason").and_then(Value::as_str), Some("telefoon"));
    assert_eq!(t.to, "locked");
    let summary = json!({"summarised": true, "bytes": 70000, "sha256": "00", "prefix": "{"});
    for payload in [json!({"hub_ms": 1, "kiosk_ms": 2, "tolerance_ms": 3}), summary, json!({"skew_ms": 1.5e3}), json!({"skew_ms": "500"})] {
        let Some(KioskEvent::ClockChecked(clock)) = KioskEvent::read_lenient("clock.checked", &payload) else { panic!("not read: {payload}") };
        assert_eq!(clock.skew_ms, None, "no measured skew in {payload}");
    }
    let Some(KioskEvent::ClockChecked(clock)) = KioskEvent::read_lenient("clock.checked", &json!({"skew_ms": -250})) else { panic!("not read") };
    assert_eq!(clock.skew_ms, Some(-250));
}
