//! Windows facts: the SMBIOS table (`GetSystemFirmwareTable('RSMB')`, the
//! same strings Linux shows in `/sys/class/dmi/id`), the CPU's hypervisor
//! bit (CPUID), the network cards' MACs (`GetAdaptersAddresses`), a Remote
//! Desktop session (`SM_REMOTESESSION`, `SESSIONNAME`), the number of
//! monitors on the desktop (`SM_CMONITORS`) and the process table.
//!
//! Under Wine (`cargo xtask test-windows`) each of these reads the Linux
//! host through Wine: its DMI, its CPU, its interfaces, Wine's own
//! (virtual) desktop; docs/platforms.md says what that does and does not show.

use super::{smbios, Check, EnvironmentFacts};
use crate::location::platform::windows::{adapters, PHYSICAL_IF_TYPES};
use windows_sys::Win32::System::SystemInformation::{GetSystemFirmwareTable, RSMB};
use windows_sys::Win32::UI::WindowsAndMessaging::{GetSystemMetrics, SM_CMONITORS, SM_REMOTESESSION};

/// The raw SMBIOS table, when the firmware provides one.
fn smbios_table() -> Option<Vec<u8>> {
    // SAFETY: a null buffer of size 0 asks for the size.
    let size = unsafe { GetSystemFirmwareTable(RSMB, 0, std::ptr::null_mut(), 0) };
    if size == 0 {
        return None;
    }
    let mut buffer = vec![0u8; size as usize];
    // SAFETY: `buffer` has `size` writable bytes.
    let written = unsafe { GetSystemFirmwareTable(RSMB, 0, buffer.as_mut_ptr(), size) };
    (written != 0 && written <= size).then(|| {
        buffer.truncate(written as usize);
        buffer
    })
}

pub(super) fn gather() -> EnvironmentFacts {
    let dmi = smbios_table().map(|t| smbios::dmi_strings(&t)).unwrap_or_default();
    let physical_macs = adapters()
        .map(|list| {
            list.into_iter()
                .filter(|a| PHYSICAL_IF_TYPES.contains(&a.if_type))
                .filter_map(|a| a.mac.map(|m| m.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut remote_session_signs = Vec::new();
    // SAFETY: GetSystemMetrics reads a value; no pointers.
    if unsafe { GetSystemMetrics(SM_REMOTESESSION) } != 0 {
        remote_session_signs.push("Windows reports a remote session (SM_REMOTESESSION): this program runs in a Remote Desktop session".into());
    }
    if let Ok(session) = std::env::var("SESSIONNAME") {
        if session.to_ascii_uppercase().starts_with("RDP-") {
            remote_session_signs.push(format!("SESSIONNAME is {session}: this program runs in a Remote Desktop session"));
        }
    }
    // SAFETY: as above.
    let monitors = unsafe { GetSystemMetrics(SM_CMONITORS) };
    let (process_names, grab_command_lines) = super::portable::processes();
    EnvironmentFacts {
        dmi,
        cpu_hypervisor_flag: super::cpu_hypervisor_flag().unwrap_or(false),
        physical_macs,
        remote_session_signs,
        process_names,
        grab_command_lines,
        // No desktop (a service session) has no monitors to count: not checked, not passed.
        connected_displays: u32::try_from(monitors).ok().filter(|n| *n > 0),
        not_gathered: if monitors > 0 { Vec::new() } else { vec![Check::Displays] },
    }
}
