//! Windows and macOS: the facts that can be gathered without platform FFI.
//! Process names and command lines come from the guard's process table
//! (`sysinfo`), so the remote-access and screen-capture checks by process
//! name work there. On macOS, DMI, the hypervisor flag, MAC addresses and
//! the number of displays are not gathered yet: the VM and display checks
//! are reported as not checked (docs/platforms.md). Windows gathers them in
//! [`super::windows`].

#[cfg(not(windows))]
use super::EnvironmentFacts;
use super::SCREEN_GRAB_ARGUMENTS;
use crate::guard::platform::{NativePlatform, ProcessPlatform as _};

/// The names of running processes (sorted, once each) and the command lines
/// that grab the screen.
pub(super) fn processes() -> (Vec<String>, Vec<String>) {
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
    (process_names, grab_command_lines)
}

#[cfg(not(windows))]
pub(super) fn gather() -> EnvironmentFacts {
    let (process_names, grab_command_lines) = processes();
    EnvironmentFacts {
        process_names,
        grab_command_lines,
        not_gathered: vec![super::Check::VirtualMachine, super::Check::Displays],
        ..EnvironmentFacts::default()
    }
}
