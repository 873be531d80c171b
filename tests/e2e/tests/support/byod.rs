//! A BYOD policy for the e2e tests: the location holds only with the demo
//! room's current code (no beacon), as on a student's own laptop.

#![allow(dead_code)] // not every test file that includes it uses both

use exam_e2e::Stack;

/// The stack's policy with only the location that needs the room code
/// (loopback + the demo room's code), as on a BYOD laptop without a beacon.
pub fn room_code_policy(stack: &Stack) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&stack.policy).unwrap();
    let mut parts = text.split("[[location]]");
    let head = parts.next().unwrap().to_owned();
    let locations: Vec<&str> = parts.collect();
    let room_code = locations.iter().find(|l| l.contains("name = \"demo-room-code\"")).expect("demo.toml has demo-room-code");
    let rest = &text[text.find("[processes]").expect("demo.toml has [processes]")..];
    let path = stack.dir.join("byod-policy.toml");
    // The room-code location is not the last one, so its block ends before [processes].
    assert!(!room_code.contains("[processes]"));
    std::fs::write(&path, format!("{head}[[location]]{room_code}{rest}")).unwrap();
    path
}

/// The demo room's code now and its neighbours (the verifier accepts ±1 step).
pub fn room_codes_now(policy: &std::path::Path) -> (String, Vec<String>) {
    let policy_file = exam_policy::load_policy_file(policy).unwrap();
    let mut req = None;
    for location in &policy_file.locations {
        for r in &location.evidence {
            r.walk(&mut |r| {
                if let exam_policy::Requirement::RoomCode(rc) = r {
                    req = Some(rc.clone());
                }
            });
        }
    }
    let secret = kiosk_core::location::RoomSecret::from_req(&req.expect("a room-code requirement"), policy.parent()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let near = [now - 30, now, now + 30].iter().map(|t| secret.code_at(*t)).collect();
    (secret.code_at(now), near)
}
