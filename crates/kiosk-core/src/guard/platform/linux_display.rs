//! Linux observations for process control by behaviour
//! ([`crate::guard::display`]):
//!
//! * **X11 clients** through the X-Resource extension: `XResQueryClientIds`
//!   with the local-client-PID mask names the pid of every local client (the
//!   server takes it from the socket's peer credentials, so a client cannot
//!   lie about it).
//! * **Wayland, X11 and PipeWire clients** through the kernel's socket
//!   diagnostics (netlink `SOCK_DIAG`, `UNIX_DIAG_PEER`): the server side of
//!   every accepted connection carries the listening socket's name and the
//!   client end's inode; the inode leads to the process holding it
//!   (`/proc/PID/fd`). No compositor co-operation and no X authorisation needed.
//! * **Devices**: `/dev/video*` (cameras, virtual cameras of capture tools)
//!   and `/dev/uinput` (input injection) among a process's open files.
//! * **Trust** in an executable: root-owned, in root-owned directories,
//!   writable by no one else.

use crate::guard::display::{BehaviourWatch, DisplayTargets, Reason, Use};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};
use x11rb::connection::RequestConnection as _;
use x11rb::protocol::res::{self, ClientIdMask, ClientIdSpec};

/// How long after a failed X connection the watch tries again.
const X11_RETRY: Duration = Duration::from_secs(5);

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const AF_UNIX: u8 = 1;
const UDIAG_SHOW_NAME: u32 = 0x1;
const UDIAG_SHOW_VFS: u32 = 0x2;
const UDIAG_SHOW_PEER: u32 = 0x4;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_VFS: u16 = 1;
const UNIX_DIAG_PEER: u16 = 2;
const TCP_ESTABLISHED: u8 = 1;
const TCP_LISTEN: u8 = 10;

/// Where the X servers' sockets are (every `X<n>` in it is watched).
const X11_SOCKET_DIR: &str = "/tmp/.X11-unix";

/// One unix socket of a `SOCK_DIAG` dump.
#[derive(Debug, Default)]
struct UnixSocket {
    inode: u32,
    /// The bound name (abstract names start with NUL); empty when unbound.
    name: Vec<u8>,
    state: u8,
    /// The peer's inode (connected sockets).
    peer: Option<u32>,
    /// The file the socket is bound to (path names): (inode, kernel device number).
    vfs: Option<(u32, u32)>,
}

/// A server socket whose clients the watch reports.
struct Watched {
    /// The socket's name as the kernel reports it (abstract names start with NUL).
    name: Vec<u8>,
    /// For a path name: the path, whose file must be the listening socket
    /// for its holder to count as the server.
    path: Option<std::path::PathBuf>,
    /// What a client of it means.
    reason: Reason,
    /// For the evidence text.
    label: String,
}

/// The Linux behaviour watch.
pub struct LinuxBehaviour {
    display: Option<String>,
    x11: Option<x11rb::rust_connection::RustConnection>,
    x11_failed_at: Option<Instant>,
    x11_limit: Option<String>,
    watched: Vec<Watched>,
    /// The session's runtime directory: every `wayland-*` socket in it is watched.
    runtime: Option<std::path::PathBuf>,
    diag_limit: Option<String>,
    /// Inodes of the watched listening sockets (their holders are the servers).
    listeners: std::collections::HashSet<u64>,
    /// Executable mappings already judged: (device, inode) → trusted. Only
    /// root can make an untrusted file trusted or the reverse, so a verdict
    /// holds for the guard's run.
    mapped: HashMap<(String, u64), bool>,
}

impl LinuxBehaviour {
    /// A watch over the display server and sockets in `targets`.
    pub fn new(targets: &DisplayTargets) -> Self {
        let mut watched = Vec::new();
        if let Some(n) = targets.x11.as_deref().and_then(x11_display_number) {
            let path = format!("/tmp/.X11-unix/X{n}");
            let label = format!("X11 client of :{n}");
            let mut abstract_name = vec![0u8];
            abstract_name.extend_from_slice(path.as_bytes());
            watched.push(Watched { name: abstract_name, path: None, reason: Reason::DisplayClient, label: label.clone() });
            watched.push(Watched { path: Some(path.clone().into()), name: path.into_bytes(), reason: Reason::DisplayClient, label });
        }
        if let Some(w) = &targets.wayland {
            watched.push(Watched {
                name: w.as_os_str().as_encoded_bytes().to_vec(),
                path: Some(w.clone()),
                reason: Reason::DisplayClient,
                label: format!("Wayland client of {}", w.display()),
            });
        }
        for p in &targets.pipewire {
            watched.push(Watched {
                name: p.as_os_str().as_encoded_bytes().to_vec(),
                path: Some(p.clone()),
                reason: Reason::ScreenCapture,
                label: format!("connected to PipeWire ({})", p.display()),
            });
        }
        let runtime = targets
            .wayland
            .as_ref()
            .and_then(|w| w.parent().map(Path::to_path_buf))
            .or_else(|| std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()).map(std::path::PathBuf::from));
        let mut watch = Self {
            display: targets.x11.clone(),
            x11: None,
            x11_failed_at: None,
            x11_limit: None,
            watched,
            runtime,
            diag_limit: None,
            listeners: Default::default(),
            mapped: HashMap::new(),
        };
        watch.connect_x11();
        watch
    }

    fn connect_x11(&mut self) {
        let Some(display) = self.display.clone() else { return };
        if self.x11_failed_at.is_some_and(|at| at.elapsed() < X11_RETRY) {
            return;
        }
        match x11rb::connect(Some(&display)) {
            Ok((conn, _)) => match conn.extension_information(res::X11_EXTENSION_NAME) {
                Ok(Some(_)) => {
                    self.x11 = Some(conn);
                    self.x11_limit = None;
                    self.x11_failed_at = None;
                }
                _ => {
                    self.x11_limit =
                        Some(format!("the X server {display} has no X-Resource extension; X11 clients are found by their socket only"));
                    self.x11_failed_at = Some(Instant::now());
                }
            },
            Err(e) => {
                self.x11_limit =
                    Some(format!("cannot connect to the X server {display} ({e}); X11 clients are found by their socket only"));
                self.x11_failed_at = Some(Instant::now());
            }
        }
    }

    /// Every unix socket of this network namespace: (inode, name, state, peer inode).
    fn unix_sockets(&mut self) -> std::io::Result<Vec<UnixSocket>> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind(&SocketAddr::new(0, 0))?;
        let mut req = Vec::with_capacity(NLMSG_HDRLEN + 24);
        req.extend_from_slice(&((NLMSG_HDRLEN + 24) as u32).to_ne_bytes());
        req.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        req.extend_from_slice(&1u32.to_ne_bytes()); // seq
        req.extend_from_slice(&0u32.to_ne_bytes()); // port
        req.extend_from_slice(&[AF_UNIX, 0, 0, 0]); // family, protocol, pad
        req.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
        req.extend_from_slice(&0u32.to_ne_bytes()); // inode: all
        req.extend_from_slice(&(UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER).to_ne_bytes());
        req.extend_from_slice(&[0xff; 8]); // cookie: none
        socket.send(&req, 0)?;
        let mut out = Vec::new();
        let mut buffer = Vec::with_capacity(64 * 1024);
        loop {
            buffer.clear();
            let n = socket.recv(&mut buffer, 0)?;
            if n == 0 {
                return Ok(out);
            }
            if parse_unix_diag(&buffer, &mut out)? {
                return Ok(out);
            }
        }
    }
}

impl LinuxBehaviour {
    /// The watched sockets now: the session's (from the targets) and every
    /// other display on this machine a process could start — every
    /// `/tmp/.X11-unix/X<n>` (and its abstract twin) and every `wayland-*`
    /// in the runtime directory. A second X server or compositor started
    /// during the exam (an allowed `Xwayland :78`) does not hide its clients.
    fn watched_now(&self) -> Vec<Watched> {
        let mut extra = Vec::new();
        let entries = |dir: &Path| -> Vec<(String, std::path::PathBuf)> {
            std::fs::read_dir(dir)
                .map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok().map(|n| (n, e.path()))).collect())
                .unwrap_or_default()
        };
        for (name, path) in entries(Path::new(X11_SOCKET_DIR)) {
            let Some(n) = name.strip_prefix('X').filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) else { continue };
            let label = format!("X11 client of :{n}");
            let mut abstract_name = vec![0u8];
            abstract_name.extend_from_slice(path.as_os_str().as_encoded_bytes());
            extra.push(Watched { name: abstract_name, path: None, reason: Reason::DisplayClient, label: label.clone() });
            extra.push(Watched { name: path.as_os_str().as_encoded_bytes().to_vec(), path: Some(path), reason: Reason::DisplayClient, label });
        }
        if let Some(runtime) = &self.runtime {
            for (name, path) in entries(runtime) {
                if !name.starts_with("wayland-") || name.ends_with(".lock") {
                    continue;
                }
                let label = format!("Wayland client of {}", path.display());
                extra.push(Watched { name: path.as_os_str().as_encoded_bytes().to_vec(), path: Some(path), reason: Reason::DisplayClient, label });
            }
        }
        let mut all: Vec<Watched> = self
            .watched
            .iter()
            .map(|w| Watched { name: w.name.clone(), path: w.path.clone(), reason: w.reason, label: w.label.clone() })
            .collect();
        for w in extra {
            if !all.iter().any(|a| a.name == w.name) {
                all.push(w);
            }
        }
        all
    }
}

/// Whether `socket` is the listening socket bound to `watched`'s name now:
/// in LISTEN state and, for a path name, the very file at the path (its
/// device and inode as the kernel reports them equal `lstat(path)`'s). The
/// student owns `$XDG_RUNTIME_DIR` and can move the compositor's socket
/// aside, bind a socket of the same name, and move the real one back: the
/// name then matches, the file does not.
fn is_listener(socket: &UnixSocket, watched: &Watched) -> bool {
    if socket.state != TCP_LISTEN || socket.name != watched.name {
        return false;
    }
    let Some(path) = &watched.path else {
        // An abstract name is unique in the network namespace: whoever holds
        // it is the only one listening under it.
        return socket.name.first() == Some(&0);
    };
    let (Some((ino, dev)), Ok(meta)) = (socket.vfs, std::fs::symlink_metadata(path)) else { return false };
    use std::os::unix::fs::FileTypeExt as _;
    meta.file_type().is_socket() && meta.ino() == u64::from(ino) && meta.dev() == user_dev(dev)
}

/// A kernel-internal device number (`MAJOR << 20 | MINOR`, as `SOCK_DIAG`
/// reports it) as `stat` reports it (glibc's `makedev`).
fn user_dev(kernel: u32) -> u64 {
    let (major, minor) = (u64::from(kernel >> 20), u64::from(kernel & 0xf_ffff));
    ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
}

/// The display number of `:N`, `:N.S` or `unix:N`; `None` for TCP displays.
fn x11_display_number(display: &str) -> Option<u32> {
    let rest = display.strip_prefix("unix:").or_else(|| display.strip_prefix(':'))?;
    rest.split('.').next()?.parse().ok()
}

/// Parses one datagram of a `SOCK_DIAG` unix dump into `out`; true at the end of the dump.
fn parse_unix_diag(datagram: &[u8], out: &mut Vec<UnixSocket>) -> std::io::Result<bool> {
    let u32_at = |b: &[u8], at: usize| b.get(at..at + 4).map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let u16_at = |b: &[u8], at: usize| b.get(at..at + 2).map(|s| u16::from_ne_bytes([s[0], s[1]]));
    let mut pos = 0;
    while pos + NLMSG_HDRLEN <= datagram.len() {
        let len = u32_at(datagram, pos).unwrap_or(0) as usize;
        let kind = u16_at(datagram, pos + 4).unwrap_or(0);
        if len < NLMSG_HDRLEN || pos + len > datagram.len() {
            break;
        }
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = u32_at(datagram, pos + NLMSG_HDRLEN).map_or(0, |e| (e as i32).unsigned_abs());
                return Err(std::io::Error::from_raw_os_error(errno as i32));
            }
            _ => {}
        }
        let msg = &datagram[pos + NLMSG_HDRLEN..pos + len];
        // unix_diag_msg: family u8, type u8, state u8, pad u8, ino u32, cookie [u32; 2].
        if msg.len() >= 16 {
            let state = msg[2];
            let inode = u32_at(msg, 4).unwrap_or(0);
            let (mut name, mut peer, mut vfs) = (Vec::new(), None, None);
            let mut at = 16;
            while at + 4 <= msg.len() {
                let rta_len = usize::from(u16_at(msg, at).unwrap_or(0));
                let rta_type = u16_at(msg, at + 2).unwrap_or(0);
                if rta_len < 4 || at + rta_len > msg.len() {
                    break;
                }
                let data = &msg[at + 4..at + rta_len];
                match rta_type {
                    UNIX_DIAG_NAME => name = data.to_vec(),
                    UNIX_DIAG_PEER => peer = u32_at(data, 0),
                    // unix_diag_vfs: inode u32, device u32.
                    UNIX_DIAG_VFS => vfs = u32_at(data, 0).zip(u32_at(data, 4)),
                    _ => {}
                }
                at += (rta_len + 3) & !3;
            }
            // A path name may come with a trailing NUL.
            if name.first() != Some(&0) {
                while name.last() == Some(&0) {
                    name.pop();
                }
            }
            out.push(UnixSocket { inode, name, state, peer, vfs });
        }
        pos += (len + 3) & !3;
    }
    Ok(false)
}

impl BehaviourWatch for LinuxBehaviour {
    fn x11_clients(&mut self) -> Vec<u32> {
        if self.x11.is_none() {
            self.connect_x11();
        }
        let Some(conn) = &self.x11 else { return Vec::new() };
        let spec = ClientIdSpec { client: 0, mask: ClientIdMask::LOCAL_CLIENT_PID };
        let reply = res::query_client_ids(conn, &[spec]).map_err(|e| e.to_string()).and_then(|c| c.reply().map_err(|e| e.to_string()));
        match reply {
            Ok(reply) => reply
                .ids
                .iter()
                .filter(|id| id.spec.mask & ClientIdMask::LOCAL_CLIENT_PID != ClientIdMask::from(0u32))
                // Resource base 0 is the server's own client: the X server itself.
                .filter(|id| id.spec.client != 0)
                .filter_map(|id| id.value.first().copied())
                .collect(),
            Err(e) => {
                // The connection broke (the server went away?): try again later.
                self.x11 = None;
                self.x11_failed_at = Some(Instant::now());
                self.x11_limit = Some(format!("X-Resource query failed ({e}); reconnecting"));
                Vec::new()
            }
        }
    }

    fn socket_clients(&mut self) -> HashMap<u64, Use> {
        let mut out = HashMap::new();
        let watched = self.watched_now();
        if watched.is_empty() {
            return out;
        }
        match self.unix_sockets() {
            Ok(sockets) => {
                self.diag_limit = None;
                self.listeners.clear();
                for socket in sockets {
                    if watched.iter().any(|w| is_listener(&socket, w)) {
                        self.listeners.insert(u64::from(socket.inode));
                    }
                    let (Some(peer), true) = (socket.peer, socket.state == TCP_ESTABLISHED) else { continue };
                    if peer == 0 {
                        continue;
                    }
                    if let Some(w) = watched.iter().find(|w| w.name == socket.name) {
                        out.insert(u64::from(peer), Use::new(w.reason, w.label.clone()));
                    }
                }
            }
            Err(e) => self.diag_limit = Some(format!("socket diagnostics (netlink SOCK_DIAG) failed: {e}")),
        }
        out
    }

    fn fds_of(&mut self, pid: u32) -> (Vec<u64>, Vec<Use>) {
        let (mut sockets, mut uses) = (Vec::new(), Vec::new());
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return (sockets, uses) };
        for entry in dir.flatten() {
            let Ok(target) = std::fs::read_link(entry.path()) else { continue };
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')).and_then(|i| i.parse().ok()) {
                sockets.push(inode);
            } else if target.starts_with("/dev/video") {
                let u = Use::new(Reason::ScreenCapture, format!("holds {target}"));
                if !uses.contains(&u) {
                    uses.push(u);
                }
            } else if target == "/dev/uinput" || target == "/dev/input/uinput" {
                let u = Use::new(Reason::InputInjection, format!("holds {target}"));
                if !uses.contains(&u) {
                    uses.push(u);
                }
            }
        }
        (sockets, uses)
    }

    fn exe_trusted(&mut self, pid: u32) -> bool {
        exe_trusted(pid) && self.mappings_trusted(pid)
    }

    fn script_of(&mut self, pid: u32) -> Option<String> {
        script_of(pid)
    }

    fn server_sockets(&self) -> std::collections::HashSet<u64> {
        self.listeners.clone()
    }

    fn limits(&self) -> Vec<String> {
        self.x11_limit.iter().chain(&self.diag_limit).cloned().collect()
    }
}

impl LinuxBehaviour {
    /// Whether every file mapped executable into `pid` (its libraries,
    /// whatever `LD_PRELOAD`, `GTK_MODULES` or `dlopen` brought in) is
    /// trusted like its executable: a trusted program running a library of
    /// the student's is the student's program.
    fn mappings_trusted(&mut self, pid: u32) -> bool {
        let Ok(maps) = std::fs::read_to_string(format!("/proc/{pid}/maps")) else { return false };
        for line in maps.lines() {
            // address perms offset dev inode [path]
            let mut fields = line.split_whitespace();
            let (Some(_), Some(perms), Some(_), Some(dev), Some(inode)) =
                (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let inode: u64 = inode.parse().unwrap_or(0);
            if perms.as_bytes().get(2) != Some(&b'x') || inode == 0 {
                continue; // Not executable, or anonymous (JIT, [vdso]).
            }
            let key = (dev.to_owned(), inode);
            let trusted = match self.mapped.get(&key) {
                Some(t) => *t,
                None => {
                    // The path is the rest of the line from its first `/`
                    // (the fields before it never contain one).
                    let path = line.find('/').map_or("", |at| line[at..].trim_end());
                    let t = !path.ends_with(" (deleted)") && file_trusted(Path::new(path), inode);
                    self.mapped.insert(key, t);
                    t
                }
            };
            if !trusted {
                return false;
            }
        }
        true
    }
}

/// Interpreter flags that change no code (Python's `-s`, `-E`, `-I`, ...).
const HARMLESS_FLAGS: &[&str] = &["-s", "-S", "-E", "-I", "-P", "-B", "-u", "-O", "-OO", "-q", "--"];
/// Environment variables that put script code into an interpreter. (Native
/// code — `LD_PRELOAD`, `LD_LIBRARY_PATH`, `GTK_MODULES` — shows as a mapped
/// file and is judged with the executable.)
const INJECTING_VARIABLES: &[&str] = &[
    "PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT", "PYTHONUSERBASE", "PERL5LIB", "PERL5OPT", "PERLLIB",
    "RUBYLIB", "RUBYOPT", "NODE_OPTIONS", "NODE_PATH", "GJS_PATH", "GI_TYPELIB_PATH", "BASH_ENV", "ENV",
];

/// See [`BehaviourWatch::script_of`].
pub fn script_of(pid: u32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
    let mut script = None;
    for arg in args.iter().skip(1) {
        let arg = std::str::from_utf8(arg).ok()?;
        if arg.starts_with('-') {
            if HARMLESS_FLAGS.contains(&arg) {
                continue;
            }
            return None;
        }
        script = Some(arg);
        break;
    }
    let script = Path::new(script?);
    let meta = std::fs::metadata(script).ok()?;
    if !file_trusted(script, meta.ino()) {
        return None;
    }
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    for var in environ.split(|b| *b == 0) {
        let name = var.split(|b| *b == b'=').next().unwrap_or_default();
        if INJECTING_VARIABLES.iter().any(|v| v.as_bytes() == name) {
            return None;
        }
    }
    Some(script.to_string_lossy().into_owned())
}

/// A root-owned file no one else may write, in root-owned directories no
/// one else may write, that is still the file with this inode.
fn file_trusted(path: &Path, inode: u64) -> bool {
    if !path.is_absolute() {
        return false;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
    meta.is_file()
        && meta.ino() == inode
        && root_only(&meta)
        && path.ancestors().skip(1).all(|dir| std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && root_only(&m)))
}

/// Root-owned and writable by no one else (group-writable only for group root).
fn root_only(meta: &std::fs::Metadata) -> bool {
    meta.uid() == 0 && meta.mode() & 0o002 == 0 && (meta.mode() & 0o020 == 0 || meta.gid() == 0)
}

/// See [`BehaviourWatch::exe_trusted`]. The file that runs (`/proc/PID/exe`)
/// must be the file at its path (same device and inode), so a deleted or
/// replaced executable is not trusted either.
pub fn exe_trusted(pid: u32) -> bool {
    let proc_exe = format!("/proc/{pid}/exe");
    let (Ok(link), Ok(running)) = (std::fs::read_link(&proc_exe), std::fs::metadata(&proc_exe)) else { return false };
    if link.to_string_lossy().ends_with(" (deleted)") || !link.is_absolute() {
        return false;
    }
    let Ok(on_disk) = std::fs::symlink_metadata(&link) else { return false };
    if !on_disk.is_file() || on_disk.dev() != running.dev() || on_disk.ino() != running.ino() || !root_only(&on_disk) {
        return false;
    }
    link.ancestors().skip(1).all(|dir: &Path| std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && root_only(&m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_numbers() {
        assert_eq!(x11_display_number(":0"), Some(0));
        assert_eq!(x11_display_number(":12.1"), Some(12));
        assert_eq!(x11_display_number("unix:3"), Some(3));
        assert_eq!(x11_display_number("localhost:10.0"), None);
        assert_eq!(x11_display_number(""), None);
    }

    #[test]
    fn unix_diag_parsing_ignores_garbage() {
        let mut out = Vec::new();
        assert!(!parse_unix_diag(&[], &mut out).unwrap());
        assert!(!parse_unix_diag(&[0xff; 7], &mut out).unwrap());
        let _ = parse_unix_diag(&[0xff; 100], &mut out);
        let _ = parse_unix_diag(&[0x10, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2], &mut out);
    }

    #[test]
    fn the_socket_dump_sees_our_own_connection() {
        // A listening socket and a client of it, both ours.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let _server_side = listener.accept().unwrap();
        let targets = DisplayTargets { x11: None, wayland: Some(path.clone()), pipewire: vec![] };
        let mut watch = LinuxBehaviour::new(&targets);
        let clients = watch.socket_clients();
        assert!(watch.limits().is_empty(), "{:?}", watch.limits());
        let (mine, _) = watch.fds_of(std::process::id());
        let ours: Vec<_> = mine.iter().filter(|i| clients.contains_key(i)).collect();
        assert_eq!(ours.len(), 1, "exactly the client end is ours: {clients:?}");
        assert_eq!(clients[ours[0]].reason, Reason::DisplayClient);
        let listener_inode = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter_map(|t| t.to_string_lossy().strip_prefix("socket:[")?.strip_suffix(']')?.parse::<u64>().ok())
            .find(|i| watch.server_sockets().contains(i));
        assert!(listener_inode.is_some(), "the listening socket at the path is the server: {:?}", watch.server_sockets());
        drop(client);
    }

    /// Finding 2: a socket bound under the watched name by someone else
    /// (the real one moved aside and back) is not the server; nor is a
    /// bound socket that does not listen.
    #[test]
    fn an_impostor_socket_of_the_same_name_is_not_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wayland-0");
        let _real = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::rename(&path, dir.path().join("aside")).unwrap();
        let impostor = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::rename(&path, dir.path().join("impostor")).unwrap();
        std::fs::rename(dir.path().join("aside"), &path).unwrap();
        let targets = DisplayTargets { x11: None, wayland: Some(path.clone()), pipewire: vec![] };
        let mut watch = LinuxBehaviour::new(&targets);
        let _ = watch.socket_clients();
        let servers = watch.server_sockets();
        assert_eq!(servers.len(), 1, "only the real listener: {servers:?}");
        let impostor_inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(dir.path().join("impostor")).unwrap());
        let sockets = watch.unix_sockets().unwrap();
        let name = path.as_os_str().as_encoded_bytes();
        let named: Vec<_> = sockets.iter().filter(|s| s.name == name).collect();
        assert_eq!(named.len(), 2, "two sockets carry the name: {named:?}");
        let imp = named.iter().find(|s| s.vfs.map(|v| u64::from(v.0)) == Some(impostor_inode)).expect("the impostor's file");
        assert!(!servers.contains(&u64::from(imp.inode)), "the impostor is not the server");
        drop(impostor);
    }

    #[test]
    fn system_executables_are_trusted_and_copies_are_not() {
        assert!(root_only(&std::fs::metadata("/usr/bin").unwrap()));
        assert!(!root_only(&std::fs::metadata("/tmp").unwrap()), "/tmp is world-writable");
        let sleep = ["/usr/bin/sleep", "/bin/sleep"].into_iter().find(|p| Path::new(p).exists()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("gnome-shell");
        std::fs::copy(sleep, &copy).unwrap();
        let mut real = std::process::Command::new(sleep).arg("30").spawn().unwrap();
        let mut copied = std::process::Command::new(&copy).arg("30").spawn().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let (real_ok, copy_ok) = (exe_trusted(real.id()), exe_trusted(copied.id()));
        for child in [&mut real, &mut copied] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert!(real_ok, "{sleep} is root-owned in root-owned directories");
        assert!(!copy_ok, "a copy in a temporary directory is not trusted");
    }
}
