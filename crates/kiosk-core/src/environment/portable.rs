//! Windows and macOS: the facts that can be gathered without platform FFI.
//! Process names and command lines come from the guard's process table
//! (`sysinfo`), so the remote-access and screen-capture checks by process
//! name work there; on Windows `SESSIONNAME` tells a Remote Desktop session
//! (`RDP-Tcp#N`). DMI, the hypervisor flag, MAC addresses and the number of
//! displays are not gathered yet: the VM and display checks see nothing on
//! these systems (docs/platforms.md, issue 21).

use super::{EnvironmentFacts, SCREEN_GRAB_ARGUMENTS};
use crate::guard::platform::{NativePlatform, ProcessPlatform as _};

pub(super) fn gather() -> EnvironmentFacts {
    let mut process_names = Vec::new();
    let mut grab_command_lines = Vec::new();
    if let Ok(mut platform) = NativePlatform::new() {
        for process in platform.snapshot() {
            if let Some(cmdline) = &process.cmdline {
                if SCREEN_GRAB_ARGUMENTS.iter().any(|g| cmdline.split_whitespace().any(|a| a == *g || a.contains(&format!("{g}:")))) {
                    grab_command_lines.push(cmdline.clone());
                }
            }
            process_names.push(process.name);
        }
    }
    process_names.sort();
    process_names.dedup();
    let mut remote_session_signs = Vec::new();
    if cfg!(windows) {
        if let Ok(session) = std::env::var("SESSIONNAME") {
            if session.to_ascii_uppercase().starts_with("RDP-") {
                remote_session_signs.push(format!("SESSIONNAME is {session}: this program runs in a Remote Desktop session"));
            }
        }
    }
    EnvironmentFacts {
        remote_session_signs,
        process_names,
        grab_command_lines,
        not_gathered: vec![super::Check::VirtualMachine, super::Check::Displays],
        ..EnvironmentFacts::default()
    }
}
