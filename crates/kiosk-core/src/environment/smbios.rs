//! The vendor and product strings of a raw SMBIOS table (DMTF DSP0134), as
//! Windows' `GetSystemFirmwareTable('RSMB')` returns it: the same values the
//! Linux kernel shows in `/sys/class/dmi/id` (`bios_vendor`, `sys_vendor`,
//! `product_name`, `board_vendor`). Pure, so it is tested on every platform;
//! a malformed table yields what could be read before the damage, never a
//! panic.

/// Windows puts an 8-byte header before the table (`RawSMBIOSData`: calling
/// method, major, minor, DMI revision, table length as `u32`).
const RAW_HEADER: usize = 8;

/// Structure type and string-field offsets, in the order of the Linux files
/// `sys_vendor`, `product_name`, `board_vendor`, `bios_vendor`.
const FIELDS: [(u8, usize); 4] = [(1, 4), (1, 5), (2, 4), (0, 4)];

/// The DMI strings of a `RawSMBIOSData` buffer, in the order of
/// [`super::linux`]'s list; empty and unset strings left out.
pub fn dmi_strings(raw: &[u8]) -> Vec<String> {
    let Some(len) = raw.get(4..8).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize) else {
        return Vec::new();
    };
    let table = &raw[RAW_HEADER.min(raw.len())..raw.len().min(RAW_HEADER.saturating_add(len))];
    let structures = structures(table);
    let mut out = Vec::new();
    for (kind, offset) in FIELDS {
        let Some((formatted, strings)) = structures.iter().find(|(f, _)| f.first() == Some(&kind)) else { continue };
        // A string field holds a 1-based index into the strings; 0 is "none".
        let Some(&index) = formatted.get(offset) else { continue };
        if index == 0 {
            continue;
        }
        if let Some(value) = strings.get(usize::from(index) - 1).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            out.push(value.to_owned());
        }
    }
    out
}

/// Splits a table into (formatted area, strings) per structure, stopping at
/// the end-of-table structure (type 127) or at the first damage.
fn structures(mut table: &[u8]) -> Vec<(&[u8], Vec<String>)> {
    let mut out = Vec::new();
    while table.len() >= 4 {
        let kind = table[0];
        let length = usize::from(table[1]);
        if length < 4 || length > table.len() {
            break;
        }
        let (formatted, rest) = table.split_at(length);
        // The string set ends with a double NUL (also when it is empty).
        let Some(end) = rest.windows(2).position(|w| w == [0, 0]) else { break };
        let strings = if end == 0 {
            Vec::new()
        } else {
            rest[..end].split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
        };
        out.push((formatted, strings));
        if kind == 127 {
            break;
        }
        table = &rest[end + 2..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One structure: type, formatted area after the 4-byte header, strings.
    fn structure(kind: u8, after_header: &[u8], strings: &[&str]) -> Vec<u8> {
        let mut s = vec![kind, (4 + after_header.len()) as u8, 0x00, 0x01];
        s.extend_from_slice(after_header);
        for string in strings {
            s.extend_from_slice(string.as_bytes());
            s.push(0);
        }
        if strings.is_empty() {
            s.push(0);
        }
        s.push(0);
        s
    }

    fn raw(structures: &[Vec<u8>]) -> Vec<u8> {
        let table: Vec<u8> = structures.concat();
        let mut raw = vec![0, 3, 4, 0];
        raw.extend_from_slice(&(table.len() as u32).to_le_bytes());
        raw.extend(table);
        raw
    }

    /// A QEMU guest's table as SeaBIOS writes it (values from a QEMU 8 q35
    /// machine's /sys/class/dmi/id).
    fn qemu() -> Vec<u8> {
        raw(&[
            // BIOS: vendor (1), version (2), start segment, release date (3).
            structure(0, &[1, 2, 0x00, 0xe8, 3, 0], &["SeaBIOS", "1.16.2-debian-1.16.2-1", "04/01/2014"]),
            // System: manufacturer (1), product (2), version (3), serial (0 = none).
            structure(1, &[1, 2, 3, 0], &["QEMU", "Standard PC (Q35 + ICH9, 2009)", "pc-q35-8.0"]),
            // A type SeaBIOS does not write; skipped.
            structure(4, &[1, 3], &["CPU 0"]),
            structure(127, &[], &[]),
        ])
    }

    #[test]
    fn vendor_and_product_are_read_in_the_linux_order() {
        assert_eq!(dmi_strings(&qemu()), ["QEMU", "Standard PC (Q35 + ICH9, 2009)", "SeaBIOS"]);
    }

    #[test]
    fn a_board_is_read_and_unset_strings_are_left_out() {
        let table = raw(&[
            structure(1, &[1, 0, 0, 0], &["Dell Inc."]),
            structure(2, &[1, 2], &["Dell Inc.", "0V8VR6"]),
            structure(0, &[1], &["  "]),
        ]);
        assert_eq!(dmi_strings(&table), ["Dell Inc.", "Dell Inc."]);
    }

    #[test]
    fn damage_stops_the_read_without_a_panic() {
        let good = qemu();
        for cut in 0..good.len() {
            let _ = dmi_strings(&good[..cut]);
        }
        let mut bad_length = good.clone();
        bad_length[8 + 1] = 2; // first structure shorter than its header
        assert!(dmi_strings(&bad_length).is_empty());
        let mut bad_index = good;
        bad_index[8 + 4] = 9; // BIOS vendor: string 9 of 3
        assert_eq!(dmi_strings(&bad_index), ["QEMU", "Standard PC (Q35 + ICH9, 2009)"]);
        // A table length larger than the buffer reads what is there.
        let mut long = qemu();
        long[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(dmi_strings(&long).len(), 3);
    }
}
