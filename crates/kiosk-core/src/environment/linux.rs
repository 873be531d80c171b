//! Linux facts: `/sys/class/dmi`, `/proc/cpuinfo`, `/sys/class/net`,
//! `/sys/class/drm`, the environment and `/proc`.

use super::{EnvironmentFacts, SCREEN_GRAB_ARGUMENTS};
use std::path::Path;

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// True when a `flags` line of cpuinfo text has `hypervisor`.
pub(super) fn cpuinfo_has_hypervisor(cpuinfo: &str) -> bool {
    cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|flag| flag == "hypervisor"))
}

pub(super) fn gather() -> EnvironmentFacts {
    const DMI: [&str; 4] = ["sys_vendor", "product_name", "board_vendor", "bios_vendor"];
    // Not root (the installed kiosk): the privileged helper reads DMI.
    let dmi = match crate::helper::Helper::detect().and_then(|helper| helper.read_dmi().ok()) {
        Some(fields) => DMI.iter().filter_map(|f| fields.get(*f).cloned()).filter(|v| !v.is_empty()).collect(),
        None => DMI.iter().filter_map(|f| read_trimmed(Path::new("/sys/class/dmi/id").join(f))).collect(),
    };
    let cpu_hypervisor_flag = std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| cpuinfo_has_hypervisor(&c));
    let mut physical_macs = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/sys/class/net") {
        for entry in entries.flatten() {
            // Only interfaces backed by a device; veth, bridges and tunnels are not evidence.
            if entry.path().join("device").exists() {
                if let Some(mac) = read_trimmed(entry.path().join("address")) {
                    physical_macs.push(mac);
                }
            }
        }
    }
    let mut remote_session_signs = Vec::new();
    for var in ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"] {
        if std::env::var_os(var).is_some() {
            remote_session_signs.push(format!("{var} is set: this program runs in an SSH session"));
        }
    }
    let mut process_names = Vec::new();
    let mut grab_command_lines = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
            let args: Vec<String> =
                cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            let exe_name = std::fs::read_link(entry.path().join("exe"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            let proc_name = exe_name.or_else(|| read_trimmed(entry.path().join("comm")));
            if let Some(first) = args.first() {
                // OpenSSH marks a logged-in session as `sshd: user@pts/0` (or runs `sshd-session`).
                if (first.starts_with("sshd:") && first.contains('@')) || proc_name.as_deref() == Some("sshd-session") {
                    remote_session_signs.push(format!("an SSH login session is active ({first})"));
                }
            }
            let joined = args.join(" ");
            if SCREEN_GRAB_ARGUMENTS.iter().any(|g| args.iter().any(|a| a == g || a.contains(&format!("{g}:")))) {
                grab_command_lines.push(joined);
            }
            if let Some(n) = proc_name {
                process_names.push(n);
            }
        }
    }
    process_names.sort();
    process_names.dedup();
    remote_session_signs.sort();
    remote_session_signs.dedup();
    let connected_displays = std::fs::read_dir("/sys/class/drm").ok().map(|entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains('-'))
            .filter(|e| read_trimmed(e.path().join("status")).as_deref() == Some("connected"))
            .count() as u32
    });
    EnvironmentFacts {
        dmi,
        cpu_hypervisor_flag,
        physical_macs,
        remote_session_signs,
        process_names,
        grab_command_lines,
        connected_displays,
        // Every check's facts are gathered here.
        not_gathered: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_flag_parsing() {
        assert!(cpuinfo_has_hypervisor("processor : 0\nflags\t\t: fpu vme hypervisor lahf_lm\n"));
        assert!(!cpuinfo_has_hypervisor("flags : fpu vme hypervisorx\n"));
        assert!(!cpuinfo_has_hypervisor(""));
    }

    #[test]
    fn a_running_capture_tool_and_vnc_server_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut children = Vec::new();
        for name in ["x11vnc", "obs"] {
            let path = dir.path().join(name);
            std::fs::copy("/bin/sleep", &path).unwrap();
            children.push(std::process::Command::new(&path).arg("30").spawn().unwrap());
        }
        // Give the kernel a moment to finish the execs.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let facts = gather();
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let report = super::super::evaluate(&facts, &exam_policy::EnvironmentRules::default());
        let evidence: Vec<&String> = report.findings.iter().flat_map(|f| &f.evidence).collect();
        assert!(evidence.iter().any(|e| e.contains("x11vnc")), "{evidence:?}");
        assert!(evidence.iter().any(|e| e.contains("\"obs\"")), "{evidence:?}");
    }
}
