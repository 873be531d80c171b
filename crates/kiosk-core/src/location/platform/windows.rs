//! Windows collectors: the IP Helper API (`GetAdaptersAddresses` with the
//! gateways, `GetIpNetTable2` for their MACs) and the Native Wi-Fi API
//! (`WlanQueryInterface`, current connection). No privileges needed. The
//! bytes of socket addresses are read by the pure parsers in
//! [`crate::location::parse`], which are tested on every platform.
//!
//! Under Wine (`cargo xtask test-windows`) these read the Linux machine's
//! interfaces and routes through Wine's iphlpapi; Wine has no Wi-Fi
//! (docs/platforms.md).

use super::NetworkPlatform;
use crate::location::{parse, Gateway, InterfaceAddr, WifiLink, WifiObservation};
use exam_policy::MacAddr;
use std::net::IpAddr;
use windows_sys::Win32::Foundation::{ERROR_BUFFER_OVERFLOW, ERROR_SUCCESS, HANDLE};
use windows_sys::Win32::NetworkManagement::IpHelper::{
    FreeMibTable, GetAdaptersAddresses, GetIpNetTable2, GAA_FLAG_INCLUDE_GATEWAYS, GAA_FLAG_SKIP_ANYCAST,
    GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST, IP_ADAPTER_ADDRESSES_LH, MIB_IPNET_ROW2, MIB_IPNET_TABLE2,
};
use windows_sys::Win32::NetworkManagement::WiFi::{
    WlanCloseHandle, WlanEnumInterfaces, WlanFreeMemory, WlanOpenHandle, WlanQueryInterface,
    wlan_interface_state_connected, wlan_intf_opcode_current_connection, WLAN_CONNECTION_ATTRIBUTES,
    WLAN_INTERFACE_INFO, WLAN_INTERFACE_INFO_LIST,
};
use windows_sys::Win32::Networking::WinSock::{AF_UNSPEC, SOCKET_ADDRESS};


/// One network adapter as `GetAdaptersAddresses` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adapter {
    /// The adapter's friendly name ("Ethernet", "Wi-Fi"; Wine: the Linux name).
    pub name: String,
    /// Its IPv4 and IPv6 interface indexes (the neighbour table's keys).
    pub indexes: [u32; 2],
    /// Its interface type (`IF_TYPE_*`: 6 Ethernet, 71 Wi-Fi, 24 loopback).
    pub if_type: u32,
    /// Its hardware address, when it has a six-byte one.
    pub mac: Option<MacAddr>,
    /// Its unicast addresses with their on-link prefix lengths.
    pub addrs: Vec<(IpAddr, u8)>,
    /// Its gateways.
    pub gateways: Vec<IpAddr>,
}

/// The interface types of physical network cards: Ethernet and Wi-Fi.
pub const PHYSICAL_IF_TYPES: [u32; 2] = [6, 71];

/// Reads a socket address the API points at.
///
/// # Safety
/// `sa.lpSockaddr` is null or points at `sa.iSockaddrLength` readable bytes.
unsafe fn socket_address(sa: &SOCKET_ADDRESS) -> Option<IpAddr> {
    if sa.lpSockaddr.is_null() || sa.iSockaddrLength <= 0 {
        return None;
    }
    let bytes = std::slice::from_raw_parts(sa.lpSockaddr.cast::<u8>(), sa.iSockaddrLength as usize);
    parse::windows_sockaddr(bytes)
}

/// A NUL-terminated UTF-16 string the API points at.
///
/// # Safety
/// `p` is null or points at a NUL-terminated UTF-16 string.
unsafe fn wide(p: *const u16) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut len = 0;
    while *p.add(len) != 0 {
        len += 1;
    }
    String::from_utf16_lossy(std::slice::from_raw_parts(p, len))
}

/// A UTF-16 string in a fixed-size array, up to its first NUL.
fn fixed_wide(chars: &[u16]) -> String {
    let len = chars.iter().position(|c| *c == 0).unwrap_or(chars.len());
    String::from_utf16_lossy(&chars[..len])
}

/// Every adapter, with its addresses and gateways.
pub fn adapters() -> Result<Vec<Adapter>, String> {
    let flags = GAA_FLAG_INCLUDE_GATEWAYS | GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
    // The API asks for a buffer, says how large it must be, and the list may
    // grow in between: a few tries, as Microsoft's own sample does.
    let mut size: u32 = 16 * 1024;
    for _ in 0..4 {
        // u64 elements: the structures need 8-byte alignment.
        let mut buffer = vec![0u64; (size as usize).div_ceil(8)];
        let first = buffer.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
        // SAFETY: `first` points at `size` writable, aligned bytes.
        let rc = unsafe { GetAdaptersAddresses(u32::from(AF_UNSPEC), flags, std::ptr::null(), first, &mut size) };
        if rc == ERROR_BUFFER_OVERFLOW {
            continue;
        }
        if rc != ERROR_SUCCESS {
            return Err(format!("GetAdaptersAddresses failed (Windows error {rc})"));
        }
        let mut out = Vec::new();
        let mut node = first.cast_const();
        // SAFETY: on success the buffer holds a NULL-terminated list whose
        // pointers all point inside it; `buffer` outlives the walk.
        unsafe {
            while let Some(a) = node.as_ref() {
                let mut addrs = Vec::new();
                let mut u = a.FirstUnicastAddress.cast_const();
                while let Some(ua) = u.as_ref() {
                    if let Some(ip) = socket_address(&ua.Address) {
                        addrs.push((ip, ua.OnLinkPrefixLength));
                    }
                    u = ua.Next;
                }
                let mut gateways = Vec::new();
                let mut g = a.FirstGatewayAddress.cast_const();
                while let Some(ga) = g.as_ref() {
                    if let Some(ip) = socket_address(&ga.Address).filter(|ip| !ip.is_unspecified()) {
                        gateways.push(ip);
                    }
                    g = ga.Next;
                }
                let mac_len = (a.PhysicalAddressLength as usize).min(a.PhysicalAddress.len());
                let mut name = wide(a.FriendlyName);
                if name.is_empty() {
                    name = "?".into();
                }
                out.push(Adapter {
                    name,
                    indexes: [a.Anonymous1.Anonymous.IfIndex, a.Ipv6IfIndex],
                    if_type: a.IfType,
                    mac: parse::mac_from_bytes(&a.PhysicalAddress[..mac_len]),
                    addrs,
                    gateways,
                });
                node = a.Next;
            }
        }
        return Ok(out);
    }
    Err("GetAdaptersAddresses: the adapter list kept growing".into())
}

/// The neighbour table: (address, interface index, MAC).
fn neighbours() -> Result<Vec<(IpAddr, u32, MacAddr)>, String> {
    let mut table: *mut MIB_IPNET_TABLE2 = std::ptr::null_mut();
    // SAFETY: the API allocates the table and stores its address in `table`.
    let rc = unsafe { GetIpNetTable2(AF_UNSPEC, &mut table) };
    if rc != ERROR_SUCCESS || table.is_null() {
        return Err(format!("GetIpNetTable2 failed (Windows error {rc})"));
    }
    let mut out = Vec::new();
    // SAFETY: on success `table` holds `NumEntries` rows; it is freed once, below.
    unsafe {
        // The rows follow the header; `Table` is declared with one element.
        let rows = std::slice::from_raw_parts(std::ptr::addr_of!((*table).Table).cast::<MIB_IPNET_ROW2>(), (*table).NumEntries as usize);
        for row in rows {
            let bytes = std::slice::from_raw_parts(
                std::ptr::addr_of!(row.Address).cast::<u8>(),
                std::mem::size_of_val(&row.Address),
            );
            let len = (row.PhysicalAddressLength as usize).min(row.PhysicalAddress.len());
            if let (Some(ip), Some(mac)) = (parse::windows_sockaddr(bytes), parse::mac_from_bytes(&row.PhysicalAddress[..len])) {
                out.push((ip, row.InterfaceIndex, mac));
            }
        }
        FreeMibTable(table.cast());
    }
    Ok(out)
}

/// The interface addresses of `adapters`.
pub fn interface_addrs(adapters: &[Adapter]) -> Vec<InterfaceAddr> {
    adapters
        .iter()
        .flat_map(|a| a.addrs.iter().map(|(addr, prefix)| InterfaceAddr { interface: a.name.clone(), addr: *addr, prefix: *prefix }))
        .collect()
}

/// The gateways of `adapters`, each with its MAC from `neighbours` when the
/// neighbour table has it on the same adapter.
pub fn gateways_of(adapters: &[Adapter], neighbours: &[(IpAddr, u32, MacAddr)]) -> Vec<Gateway> {
    let mut out = Vec::new();
    for a in adapters {
        for ip in &a.gateways {
            let mac = neighbours.iter().find(|(n, index, _)| n == ip && a.indexes.contains(index)).map(|(_, _, mac)| *mac);
            out.push(Gateway { interface: a.name.clone(), ip: *ip, mac });
        }
    }
    out
}

/// The Windows collectors.
#[derive(Debug, Default, Clone, Copy)]
pub struct Windows;

impl Windows {
    fn read_gateways(&self) -> Result<Vec<Gateway>, String> {
        let adapters = adapters()?;
        if adapters.iter().all(|a| a.gateways.is_empty()) {
            return Ok(Vec::new());
        }
        // No neighbour table is not fatal: the gateways are reported without MAC.
        let neighbours = neighbours().unwrap_or_default();
        Ok(gateways_of(&adapters, &neighbours))
    }
}

impl NetworkPlatform for Windows {
    fn interfaces(&self) -> Result<Vec<InterfaceAddr>, String> {
        Ok(interface_addrs(&adapters()?))
    }

    fn gateways(&self, resolve: &[IpAddr]) -> Result<Vec<Gateway>, String> {
        super::with_resolved_macs(resolve, || self.read_gateways())
    }

    fn wifi(&self) -> WifiObservation {
        match wifi_links() {
            Ok(links) if links.is_empty() => WifiObservation::none("WLAN API: not connected to Wi-Fi"),
            Ok(links) => WifiObservation { links, source: "wlanapi".into(), note: None },
            Err(why) => WifiObservation::none(&why),
        }
    }
}

/// The connected Wi-Fi networks through the Native Wi-Fi API. No WLAN
/// service (a PC without Wi-Fi) is "no Wi-Fi", said with the reason.
fn wifi_links() -> Result<Vec<WifiLink>, String> {
    let mut version = 0u32;
    let mut handle: HANDLE = std::ptr::null_mut();
    // SAFETY: out-pointers to locals; client version 2 (Vista and later).
    let rc = unsafe { WlanOpenHandle(2, std::ptr::null(), &mut version, &mut handle) };
    if rc != ERROR_SUCCESS {
        return Err(format!("no Wi-Fi seen (WlanOpenHandle: Windows error {rc}; no WLAN service)"));
    }
    let mut links = Vec::new();
    let mut list: *mut WLAN_INTERFACE_INFO_LIST = std::ptr::null_mut();
    // SAFETY: `handle` is open; the API allocates `list`, freed below.
    let rc = unsafe { WlanEnumInterfaces(handle, std::ptr::null(), &mut list) };
    let result = if rc != ERROR_SUCCESS || list.is_null() {
        Err(format!("no Wi-Fi seen (WlanEnumInterfaces: Windows error {rc})"))
    } else {
        // SAFETY: `list` holds `dwNumberOfItems` entries.
        // The entries follow the header; `InterfaceInfo` is declared with one element.
        let interfaces: &[WLAN_INTERFACE_INFO] = unsafe {
            std::slice::from_raw_parts(std::ptr::addr_of!((*list).InterfaceInfo).cast::<WLAN_INTERFACE_INFO>(), (*list).dwNumberOfItems as usize)
        };
        let mut failure = None;
        for info in interfaces.iter().filter(|i| i.isState == wlan_interface_state_connected) {
            let mut size = 0u32;
            let mut data: *mut core::ffi::c_void = std::ptr::null_mut();
            // SAFETY: the API allocates `data` (a WLAN_CONNECTION_ATTRIBUTES), freed below.
            let rc = unsafe {
                WlanQueryInterface(
                    handle,
                    &info.InterfaceGuid,
                    wlan_intf_opcode_current_connection,
                    std::ptr::null(),
                    &mut size,
                    &mut data,
                    std::ptr::null_mut(),
                )
            };
            if rc != ERROR_SUCCESS || data.is_null() || (size as usize) < std::mem::size_of::<WLAN_CONNECTION_ATTRIBUTES>() {
                // Windows 11 24H2 and later answer "access denied" here when
                // location services are off for desktop apps: the network is
                // there, but we may not see which one. Said, not hidden.
                failure.get_or_insert(format!(
                    "Wi-Fi adapter {:?} is connected but its network cannot be read (WlanQueryInterface: Windows error {rc}; on Windows 11 location services must be on for this)",
                    fixed_wide(&info.strInterfaceDescription)
                ));
                if !data.is_null() {
                    // SAFETY: allocated by WlanQueryInterface.
                    unsafe { WlanFreeMemory(data) };
                }
                continue;
            }
            // SAFETY: checked size above; freed right after.
            let attrs = unsafe { &*data.cast::<WLAN_CONNECTION_ATTRIBUTES>() };
            let assoc = &attrs.wlanAssociationAttributes;
            links.push(WifiLink {
                interface: Some(fixed_wide(&info.strInterfaceDescription)),
                ssid: parse::ssid_text(&assoc.dot11Ssid.ucSSID, assoc.dot11Ssid.uSSIDLength),
                bssid: parse::mac_from_bytes(&assoc.dot11Bssid),
            });
            // SAFETY: allocated by WlanQueryInterface.
            unsafe { WlanFreeMemory(data) };
        }
        // SAFETY: allocated by WlanEnumInterfaces.
        unsafe { WlanFreeMemory(list.cast()) };
        // A network read on one adapter counts even when another could not
        // be read; with none read, the reason is the answer.
        match failure {
            Some(why) if links.is_empty() => Err(why),
            _ => Ok(links),
        }
    };
    // SAFETY: opened above, closed once.
    unsafe { WlanCloseHandle(handle, std::ptr::null()) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Under Wine these read the Linux host's interfaces: loopback is always
    /// there, with 127.0.0.1/8 (issue 21: the collectors run, not only compile).
    #[test]
    fn the_real_adapters_include_loopback() {
        let adapters = adapters().expect("GetAdaptersAddresses");
        let addrs = interface_addrs(&adapters);
        let lo = addrs.iter().find(|a| a.addr == IpAddr::from([127, 0, 0, 1])).unwrap_or_else(|| panic!("no 127.0.0.1 in {adapters:?}"));
        assert_eq!(lo.prefix, 8, "{lo:?}");
        // Gateways and Wi-Fi are answers, not errors, whatever the machine has.
        Windows.gateways(&[]).expect("gateways");
        let wifi = Windows.wifi();
        assert!(!wifi.links.is_empty() || wifi.note.is_some(), "{wifi:?}");
    }

    #[test]
    fn gateways_take_the_mac_seen_on_their_own_adapter() {
        let gw: IpAddr = "192.168.1.1".parse().unwrap();
        let mac = |last| MacAddr([2, 0, 0, 0, 0, last]);
        let adapter = |name: &str, index| Adapter {
            name: name.into(),
            indexes: [index, index],
            if_type: 6,
            mac: Some(mac(index as u8)),
            addrs: vec![("192.168.1.20".parse().unwrap(), 24)],
            gateways: vec![gw],
        };
        let adapters = [adapter("Ethernet", 4), adapter("Ethernet 2", 7)];
        // The same gateway address answers with another MAC on adapter 7.
        let neighbours = [(gw, 7, mac(0xbb)), (gw, 4, mac(0xaa))];
        let gws = gateways_of(&adapters, &neighbours);
        assert_eq!(gws.len(), 2);
        assert_eq!((gws[0].interface.as_str(), gws[0].mac), ("Ethernet", Some(mac(0xaa))));
        assert_eq!((gws[1].interface.as_str(), gws[1].mac), ("Ethernet 2", Some(mac(0xbb))));
        assert_eq!(gateways_of(&adapters, &[])[0].mac, None, "no neighbour entry: no MAC, not a guess");
    }
}
