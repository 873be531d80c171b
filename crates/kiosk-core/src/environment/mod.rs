//! Environment checks: virtual machine, remote sessions, number of displays,
//! screen-capture tools. Each check gathers plain facts (platform code), and
//! a pure function turns facts plus the policy's actions into findings.
//!
//! VM detection defaults to `warn` in the policy, because false positives on
//! real PCs are the peer's most common complaint; each finding lists the
//! evidence so an invigilator can judge it.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(any(windows, test))]
mod smbios;
// Firmware table and system metrics: `unsafe` at the Win32 boundary only.
#[cfg(windows)]
#[allow(unsafe_code)]
mod windows;

use exam_policy::{Action, EnvironmentRules};
use serde::Serialize;

/// Process names of remote-access servers (any OS; compared case-insensitively,
/// `.exe` ignored).
pub const REMOTE_ACCESS_SERVERS: &[&str] = &[
    "x11vnc", "Xvnc", "Xtigervnc", "vncserver", "x0vncserver", "wayvnc", "vino-server", "krfb", "xrdp",
    "xrdp-sesman", "gnome-remote-desktop-daemon", "winvnc", "tvnserver", "vncserver-x11", "rdpclip",
];
/// Process names of screen recorders and capture tools.
pub const SCREEN_CAPTURE_TOOLS: &[&str] = &[
    "obs", "obs64", "simplescreenrecorder", "kazam", "vokoscreen", "vokoscreenNG", "peek", "wf-recorder",
    "recordmydesktop", "gpu-screen-recorder", "kooha", "ShareX", "Bandicam", "CamtasiaStudio", "CamRecorder",
    "ScreenToGif", "Snagit32", "SnagitEditor",
];
/// Command-line fragments of general tools used to grab the screen.
pub const SCREEN_GRAB_ARGUMENTS: &[&str] = &["x11grab", "kmsgrab", "gdigrab", "ddagrab", "avfoundation"];
/// DMI vendor/product strings of hypervisors (lower case, matched as substrings).
pub const VM_DMI_MARKERS: &[&str] = &[
    "qemu", "kvm", "vmware", "virtualbox", "innotek", "xen", "bochs", "parallels", "hyper-v", "virtual machine",
    "amazon ec2", "google compute engine", "openstack", "bhyve",
];
/// MAC address prefixes (OUIs) assigned to hypervisors' virtual NICs.
pub const VM_MAC_PREFIXES: &[&str] = &[
    "08:00:27", // VirtualBox
    "0a:00:27", // VirtualBox host-only
    "00:05:69", "00:0c:29", "00:1c:14", "00:50:56", // VMware
    "52:54:00", // QEMU/KVM
    "00:15:5d", // Hyper-V
    "00:16:3e", // Xen
    "00:1c:42", // Parallels
];

/// The facts the checks are decided on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnvironmentFacts {
    /// DMI system vendor, product name and BIOS vendor, when readable.
    pub dmi: Vec<String>,
    /// The CPU reports that it runs under a hypervisor.
    pub cpu_hypervisor_flag: bool,
    /// MAC addresses of physical network interfaces.
    pub physical_macs: Vec<String>,
    /// Signs of a remote session of this program's user (e.g. `SSH_CONNECTION`).
    pub remote_session_signs: Vec<String>,
    /// Names of running processes (the whole machine).
    pub process_names: Vec<String>,
    /// Command lines of running processes that mention screen grabbing.
    pub grab_command_lines: Vec<String>,
    /// Connected displays, when the platform can tell.
    pub connected_displays: Option<u32>,
    /// The checks whose facts this platform does not gather (Windows and
    /// macOS: the virtual-machine and display checks). Each is reported as
    /// not checked, never as passed.
    pub not_gathered: Vec<Check>,
}

/// One environment check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Running inside a virtual machine.
    VirtualMachine,
    /// A remote session is active or a remote-access server runs.
    RemoteSession,
    /// More displays than allowed.
    Displays,
    /// A screen-capture tool runs.
    ScreenCapture,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// Whether it fired.
    pub detected: bool,
    /// What was seen (empty when nothing).
    pub evidence: Vec<String>,
    /// The action the policy gives when it fires; `allow` when it did not.
    /// A check this platform cannot make is `warn` when the policy would
    /// act on it: journalled and reported, not silently passed.
    pub action: Action,
    /// False when this platform gathers no facts for the check: it could
    /// neither fire nor pass (the evidence says so).
    pub checked: bool,
}

/// All findings and the strongest action among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentReport {
    /// One finding per check.
    pub findings: Vec<Finding>,
    /// The strongest action: `refuse-start` > `lock` > `warn` > `allow`.
    pub action: Action,
}

fn severity(action: Action) -> u8 {
    match action {
        Action::Allow => 0,
        Action::Warn => 1,
        Action::Lock => 2,
        Action::RefuseStart => 3,
    }
}

fn same_name(a: &str, b: &str) -> bool {
    let strip = |s: &str| {
        let lower = s.to_ascii_lowercase();
        lower.strip_suffix(".exe").map(str::to_owned).unwrap_or(lower)
    };
    strip(a) == strip(b)
}

/// Decides every check from facts and the policy's actions.
pub fn evaluate(facts: &EnvironmentFacts, rules: &EnvironmentRules) -> EnvironmentReport {
    let mut vm = Vec::new();
    for value in &facts.dmi {
        let lower = value.to_ascii_lowercase();
        if let Some(marker) = VM_DMI_MARKERS.iter().find(|m| lower.contains(*m)) {
            vm.push(format!("DMI {value:?} names a hypervisor ({marker})"));
        }
    }
    if facts.cpu_hypervisor_flag {
        vm.push("the CPU reports the hypervisor flag".into());
    }
    for mac in &facts.physical_macs {
        let lower = mac.to_ascii_lowercase();
        if VM_MAC_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            vm.push(format!("network card {mac} has a virtual-machine vendor prefix"));
        }
    }

    let mut remote = facts.remote_session_signs.clone();
    for name in &facts.process_names {
        if REMOTE_ACCESS_SERVERS.iter().any(|s| same_name(s, name)) {
            remote.push(format!("remote-access server {name:?} is running"));
        }
    }

    let mut displays = Vec::new();
    if let Some(n) = facts.connected_displays.filter(|n| *n > u32::from(rules.max_displays)) {
        displays.push(format!("{n} displays connected, at most {} allowed", rules.max_displays));
    }

    let mut capture = Vec::new();
    for name in &facts.process_names {
        if SCREEN_CAPTURE_TOOLS.iter().any(|s| same_name(s, name)) {
            capture.push(format!("screen-capture tool {name:?} is running"));
        }
    }
    capture.extend(facts.grab_command_lines.iter().map(|c| format!("a process grabs the screen: {c}")));

    let findings: Vec<Finding> = [
        (Check::VirtualMachine, vm, rules.vm),
        (Check::RemoteSession, remote, rules.remote_session),
        (Check::Displays, displays, rules.displays),
        (Check::ScreenCapture, capture, rules.screen_capture),
    ]
    .into_iter()
    .map(|(check, mut evidence, action)| {
        if facts.not_gathered.contains(&check) {
            let evidence = vec![format!("not checked: this platform ({}) does not gather the facts for this check", std::env::consts::OS)];
            let action = if action == Action::Allow { Action::Allow } else { Action::Warn };
            return Finding { check, detected: false, evidence, action, checked: false };
        }
        evidence.dedup();
        let detected = !evidence.is_empty();
        Finding { check, detected, evidence, action: if detected { action } else { Action::Allow }, checked: true }
    })
    .collect();
    let action = findings.iter().map(|f| f.action).max_by_key(|a| severity(*a)).unwrap_or(Action::Allow);
    EnvironmentReport { findings, action }
}

/// Gathers the facts on this machine.
pub fn gather() -> EnvironmentFacts {
    #[cfg(target_os = "linux")]
    {
        linux::gather()
    }
    #[cfg(windows)]
    {
        windows::gather()
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        portable::gather()
    }
}

/// Hyper-V's root partition: the hypervisor vendor (CPUID 0x40000000 EBX,
/// ECX, EDX) is "Microsoft Hv" and the partition may create partitions
/// (0x40000003 EBX bit 0), which only the root (the PC itself) may.
#[allow(dead_code, reason = "used by cpu_hypervisor_flag, which only Windows calls")]
fn hyper_v_root(vendor: [u32; 3], features_ebx: u32) -> bool {
    let name: Vec<u8> = vendor.iter().flat_map(|r| r.to_le_bytes()).collect();
    name == *b"Microsoft Hv" && features_ebx & 1 != 0
}

/// Whether the CPU says it runs under a hypervisor (CPUID leaf 1, ECX bit
/// 31), asked of the CPU itself: the same bit Linux shows as the
/// `hypervisor` flag in `/proc/cpuinfo` — except on Hyper-V's root
/// partition (a real Windows PC with virtualisation-based security, WSL 2
/// or Docker), which is not a virtual machine. `None` off x86.
#[allow(dead_code, reason = "Linux reads the kernel's flag; the test compares both")]
#[allow(unsafe_code, reason = "the CPUID instruction")]
pub(crate) fn cpu_hypervisor_flag() -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::__cpuid;
        #[allow(unused_unsafe, reason = "newer Rust declares __cpuid safe")]
        // SAFETY: CPUID leaf 1 exists on every x86_64 CPU.
        let under_hypervisor = unsafe { __cpuid(1) }.ecx & (1 << 31) != 0;
        if !under_hypervisor {
            return Some(false);
        }
        // Windows 11 with virtualisation-based security (Memory integrity),
        // WSL 2 or Docker runs itself on Hyper-V: the bit is set on a real
        // PC. Hyper-V's root partition (the PC itself, not a guest) holds
        // the CreatePartitions privilege (leaf 0x40000003, EBX bit 0).
        #[allow(unused_unsafe, reason = "newer Rust declares __cpuid safe")]
        // SAFETY: the hypervisor leaves exist when the hypervisor bit is set.
        let (vendor, features) = unsafe { (__cpuid(0x4000_0000), __cpuid(0x4000_0003)) };
        Some(!hyper_v_root([vendor.ebx, vendor.ecx, vendor.edx], features.ebx))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> EnvironmentRules {
        EnvironmentRules::default()
    }

    /// Issue 16 point 5: a check the platform cannot make (the VM and
    /// display checks on Windows and macOS gather nothing) is reported as
    /// not checked with a warning, never passed silently.
    #[test]
    fn a_check_this_platform_cannot_make_is_a_warning_not_a_pass() {
        let facts = EnvironmentFacts {
            process_names: vec!["exam-kiosk".into()],
            not_gathered: vec![Check::VirtualMachine, Check::Displays],
            ..EnvironmentFacts::default()
        };
        let report = evaluate(&facts, &rules());
        let vm = report.findings.iter().find(|f| f.check == Check::VirtualMachine).unwrap();
        assert!(!vm.checked && !vm.detected, "{vm:?}");
        assert_eq!(vm.action, Action::Warn, "the default policy acts on a VM, so not checking it warns");
        assert!(vm.evidence[0].starts_with("not checked"), "{vm:?}");
        let capture = report.findings.iter().find(|f| f.check == Check::ScreenCapture).unwrap();
        assert!(capture.checked && capture.action == Action::Allow, "{capture:?}");
        assert_eq!(report.action, Action::Warn);
        // A policy that allows VMs and any number of displays has nothing to warn about.
        let lenient = EnvironmentRules { vm: Action::Allow, displays: Action::Allow, ..rules() };
        assert_eq!(evaluate(&facts, &lenient).action, Action::Allow);
    }

    #[test]
    fn a_clean_pc_fires_nothing() {
        let facts = EnvironmentFacts {
            dmi: vec!["Dell Inc.".into(), "OptiPlex 7010".into()],
            physical_macs: vec!["f8:bc:12:34:56:78".into()],
            process_names: vec!["exam-kiosk".into(), "cage".into()],
            connected_displays: Some(1),
            ..EnvironmentFacts::default()
        };
        let report = evaluate(&facts, &rules());
        assert!(report.findings.iter().all(|f| !f.detected), "{report:?}");
        assert_eq!(report.action, Action::Allow);
    }

    #[test]
    fn each_check_fires_with_its_evidence_and_the_strongest_action_wins() {
        let facts = EnvironmentFacts {
            dmi: vec!["QEMU".into(), "Standard PC (Q35 + ICH9, 2009)".into()],
            cpu_hypervisor_flag: true,
            physical_macs: vec!["52:54:00:12:34:56".into()],
            remote_session_signs: vec!["SSH_CONNECTION is set".into()],
            process_names: vec!["x11vnc".into(), "OBS".into(), "ShareX.exe".into()],
            grab_command_lines: vec!["ffmpeg -f x11grab -i :0".into()],
            connected_displays: Some(2),
            not_gathered: vec![],
        };
        let mut rules = rules();
        rules.vm = Action::Warn;
        rules.remote_session = Action::Lock;
        rules.displays = Action::RefuseStart;
        rules.screen_capture = Action::Lock;
        let report = evaluate(&facts, &rules);
        let by = |c: Check| report.findings.iter().find(|f| f.check == c).unwrap();
        assert_eq!(by(Check::VirtualMachine).evidence.len(), 3);
        assert_eq!(by(Check::VirtualMachine).action, Action::Warn);
        assert_eq!(by(Check::RemoteSession).evidence.len(), 2);
        assert_eq!(by(Check::ScreenCapture).evidence.len(), 3);
        assert_eq!(by(Check::Displays).action, Action::RefuseStart);
        assert_eq!(report.action, Action::RefuseStart);
    }

    #[test]
    fn allowed_checks_still_report_evidence() {
        let facts = EnvironmentFacts { cpu_hypervisor_flag: true, ..EnvironmentFacts::default() };
        let mut rules = rules();
        rules.vm = Action::Allow;
        let report = evaluate(&facts, &rules);
        assert!(report.findings[0].detected);
        assert_eq!(report.action, Action::Allow);
    }

    /// The hypervisor bit the Windows build reads from CPUID is the one the
    /// Linux kernel reports in /proc/cpuinfo (issue 21: the Windows VM check
    /// is made, and made the same way the Linux one sees it).
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn the_cpuid_hypervisor_bit_is_the_kernels_flag() {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        assert_eq!(cpu_hypervisor_flag(), Some(linux::cpuinfo_has_hypervisor(&cpuinfo)));
    }

    /// A real PC running Windows with virtualisation-based security is
    /// Hyper-V's root partition: not a VM (reviewer's finding: the bare
    /// hypervisor bit warned on such laptops). A Hyper-V guest and KVM are.
    #[test]
    fn hyper_v_root_partition_is_not_a_virtual_machine() {
        let regs = |name: &[u8; 12]| {
            let word = |i: usize| u32::from_le_bytes(name[i..i + 4].try_into().unwrap());
            [word(0), word(4), word(8)]
        };
        assert!(hyper_v_root(regs(b"Microsoft Hv"), 0x2e7f));
        assert!(!hyper_v_root(regs(b"Microsoft Hv"), 0x2e7e), "a Hyper-V guest lacks CreatePartitions");
        assert!(!hyper_v_root(regs(b"KVMKVMKVM\0\0\0"), 1));
    }

    /// On Windows every check's facts are gathered (issue 21: none of them
    /// passes because it is unimplemented); under Wine the CPU is the Linux
    /// host's, so the hypervisor bit is that of CPUID.
    #[cfg(windows)]
    #[test]
    fn windows_gathers_every_check() {
        let facts = gather();
        assert!(facts.not_gathered.is_empty() || facts.not_gathered == [Check::Displays], "{facts:?}");
        assert_eq!(facts.cpu_hypervisor_flag, cpu_hypervisor_flag().unwrap());
        let report = evaluate(&facts, &rules());
        let vm = report.findings.iter().find(|f| f.check == Check::VirtualMachine).unwrap();
        assert!(vm.checked, "{vm:?}");
        if facts.cpu_hypervisor_flag {
            assert!(vm.detected && vm.evidence.iter().any(|e| e.contains("hypervisor flag")), "{vm:?}");
        }
    }

    #[test]
    fn the_real_machine_can_be_inspected() {
        let facts = gather();
        let report = evaluate(&facts, &rules());
        assert_eq!(report.findings.len(), 4);
        assert!(!facts.process_names.is_empty());
    }
}
