//! One kiosk per machine, whatever its data directory (issue 15 point 8: a
//! second kiosk with another data directory opened a second full-screen
//! window over the running exam).
//!
//! Two claims, both taken before any window:
//!
//! - **The machine**: on Linux an abstract Unix socket named
//!   `exam-kiosk/<namespace>` (the kernel frees it when the process dies,
//!   also after kill -9; there is no file to delete; it spans every user of
//!   the machine's network namespace). An abstract name has no owner or
//!   permissions: any local program can bind it first. So when the name is
//!   taken the kiosk asks the kernel who holds it (SO_PEERCRED) and looks at
//!   that process's executable (`/proc/PID/exe`, else `/proc/PID/comm` for
//!   another user's process): only an `exam-kiosk` is told hello and
//!   reported as "draait al"; anything else is reported as another program
//!   blocking the kiosk (exit code 3 in both cases; no journal exists yet).
//!   On other Unixes an exclusive lock on `/tmp/exam-kiosk-<namespace>.lock`
//!   with a socket beside it. The namespace is `machine`, except for
//!   kiosks whose policy allows test automation: the end-to-end tests run
//!   several kiosks on one machine, each on its own X server, and give each
//!   its own namespace (`EXAM_KIOSK_INSTANCE`, honoured only then — such a
//!   kiosk shows TESTMODUS and the proces-verbaal lists it).
//! - **The data directory**: an exclusive lock on `state/instance.lock`, so
//!   two kiosks can never write one journal (the journal's own lock backs
//!   this up).
//!
//! A second instance finds the machine taken, tells the first over the
//! socket (which journals the attempt and shows it on screen — at most one
//! notice per [`NOTICE_EVERY`], the attempts held back counted in the next),
//! and exits without opening a window — so it can neither cover the running
//! exam nor touch its journal.
//!
//! On Windows the machine is a named mutex `Global\exam-kiosk-<namespace>`
//! (one for every session of the machine; Windows frees it when the process
//! dies), and a second instance tells the first by setting the named event
//! `Global\exam-kiosk-<namespace>-hello`, which the first waits on. Like an
//! abstract socket a named mutex can be created first by any program; when
//! the name exists but cannot be opened (another user's object with a
//! stricter DACL) the start is reported as blocked, not as "draait al".

#[cfg(unix)]
use std::io::{Read as _, Write as _};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file, in the data directory's `state/`.
const LOCK_FILE: &str = "instance.lock";
/// What a second instance sends.
#[cfg(unix)]
const HELLO: &[u8] = b"second-instance\n";
/// How long the first instance waits for a peer's message.
#[cfg(unix)]
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// At most one notice of second instances per this long.
const NOTICE_EVERY: Duration = Duration::from_secs(5);
/// The namespace of every kiosk that is not under test automation.
pub const MACHINE: &str = "machine";
/// The variable a test-automation kiosk may name its own namespace in.
pub const NAMESPACE_VAR: &str = "EXAM_KIOSK_INSTANCE";

/// Why this process may not run as the kiosk.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Another exam-kiosk runs on this machine.
    #[error("exam-kiosk draait al op deze pc; deze tweede start is geweigerd en het lopende examen gaat door")]
    AlreadyRunning,
    /// Another program, not an exam-kiosk, holds the kiosk's machine claim.
    #[error("een ander programma ({holder}) blokkeert exam-kiosk op deze pc; de kiosk start niet. Sluit dat programma of start de pc opnieuw op")]
    Blocked {
        /// The program, as far as it can be told (pid and executable).
        holder: String,
    },
    /// Another exam-kiosk runs on the same data directory (only possible
    /// between test-automation kiosks of different namespaces).
    #[error("exam-kiosk draait al op deze pc (gegevensmap {0}); deze tweede start is geweigerd en het lopende examen gaat door")]
    DataDirInUse(PathBuf),
    /// A namespace that is not a plain name.
    #[error("{NAMESPACE_VAR}={0:?}: use 1 to 64 letters, digits, '.', '_' or '-'")]
    BadNamespace(String),
    /// The lock file or socket could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// The file or socket.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The namespace this kiosk claims: [`MACHINE`], or under test automation
/// the one [`NAMESPACE_VAR`] names.
pub fn namespace(test_automation: bool, requested: Option<String>) -> Result<String, InstanceError> {
    match requested {
        Some(name) if test_automation => {
            let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
            if (1..=64).contains(&name.len()) && name.chars().all(plain) {
                Ok(name)
            } else {
                Err(InstanceError::BadNamespace(name))
            }
        }
        _ => Ok(MACHINE.to_owned()),
    }
}

/// Held by the first instance: the locks and the listening socket.
pub struct FirstInstance {
    _machine: MachineClaim,
    _data_dir: std::fs::File,
    listener: Listener,
}

/// Where the first instance hears of second ones.
#[cfg(unix)]
type Listener = UnixListener;
#[cfg(windows)]
type Listener = windows::HelloEvent;

/// Takes the machine (in `namespace`) and the data directory for this
/// process, or tells the instance that has the machine and returns
/// [`InstanceError::AlreadyRunning`].
pub fn claim(data_dir: &Path, namespace: &str) -> Result<FirstInstance, InstanceError> {
    let (machine, listener) = claim_machine(namespace)?;
    let state = data_dir.join(kiosk_core::kiosk::dirs::STATE);
    std::fs::create_dir_all(&state).map_err(io(&state))?;
    let lock_path = state.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => Ok(FirstInstance { _machine: machine, _data_dir: lock, listener }),
        Err(std::fs::TryLockError::WouldBlock) => Err(InstanceError::DataDirInUse(data_dir.to_owned())),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&lock_path)(e)),
    }
}

fn io(what: &Path) -> impl FnOnce(std::io::Error) -> InstanceError {
    let what = what.display().to_string();
    move |source| InstanceError::Io { what, source }
}

/// What keeps the machine taken besides the listener (a lock file on other
/// Unixes, the named mutex on Windows).
#[cfg(target_os = "linux")]
struct MachineClaim;
#[cfg(all(unix, not(target_os = "linux")))]
struct MachineClaim(#[allow(dead_code)] std::fs::File);
#[cfg(windows)]
use windows::Mutex as MachineClaim;
#[cfg(windows)]
use windows::claim_machine;

/// Says hello to the instance that has the machine; best effort (the
/// refusal holds whether or not the first hears of it).
#[cfg(unix)]
fn tell_first(connect: std::io::Result<UnixStream>) -> InstanceError {
    if let Ok(mut stream) = connect {
        let _ = stream.write_all(HELLO);
    }
    InstanceError::AlreadyRunning
}

#[cfg(target_os = "linux")]
fn claim_machine(namespace: &str) -> Result<(MachineClaim, UnixListener), InstanceError> {
    use std::os::linux::net::SocketAddrExt as _;
    use std::os::unix::net::SocketAddr;
    let name = format!("exam-kiosk/{namespace}");
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).map_err(|source| InstanceError::Io { what: format!("@{name}"), source })?;
    match UnixListener::bind_addr(&addr) {
        Ok(listener) => Ok((MachineClaim, listener)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let stream = UnixStream::connect_addr(&addr);
            match stream.as_ref().map(holder) {
                Ok(Holder::Kiosk) => Err(tell_first(stream)),
                Ok(Holder::Other(holder)) => Err(InstanceError::Blocked { holder }),
                // Bound but not listening: a kiosk listens as it binds.
                Err(e) => Err(InstanceError::Blocked { holder: format!("onbekend; de naam @{name} is bezet maar antwoordt niet: {e}") }),
            }
        }
        Err(source) => Err(InstanceError::Io { what: format!("@{name}"), source }),
    }
}

/// Who holds the machine's socket.
#[cfg(target_os = "linux")]
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// An exam-kiosk executable.
    Kiosk,
    /// Anything else, described for the message.
    Other(String),
}

/// The process at the other end of `stream` (the one that listens on the
/// name): its credentials from the kernel, its executable from /proc.
#[cfg(target_os = "linux")]
fn holder(stream: &UnixStream) -> Holder {
    let pid = match rustix::net::sockopt::socket_peercred(stream) {
        Ok(cred) => cred.pid.as_raw_pid(),
        Err(e) => return Holder::Other(format!("onbekend: {e}")),
    };
    let proc = PathBuf::from(format!("/proc/{pid}"));
    // Another user's process: its exe link is unreadable, its name is not.
    let exe = std::fs::read_link(proc.join("exe")).ok();
    let comm = std::fs::read_to_string(proc.join("comm")).ok().map(|c| c.trim_end().to_owned());
    if is_kiosk(exe.as_deref(), comm.as_deref()) {
        Holder::Kiosk
    } else {
        let what = exe.map(|e| e.display().to_string()).or(comm).unwrap_or_else(|| "onbekend".into());
        Holder::Other(format!("{what}, pid {pid}"))
    }
}

/// Whether a process with this executable (or, when that cannot be read,
/// this name) is an exam-kiosk. A name can be chosen by anyone; this only
/// decides which message the refused start shows, never whether it starts.
#[cfg(target_os = "linux")]
fn is_kiosk(exe: Option<&Path>, comm: Option<&str>) -> bool {
    const NAME: &str = "exam-kiosk";
    #[cfg(test)]
    if exe.is_some() && exe.map(Path::to_path_buf) == std::env::current_exe().ok() {
        // The unit tests play the first kiosk themselves.
        return true;
    }
    match exe {
        Some(exe) => {
            let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            // An executable replaced on disk (an update) while running.
            name.strip_suffix(" (deleted)").unwrap_or(&name) == NAME
        }
        None => comm == Some(NAME),
    }
}

/// Paces the notices of second instances: at most one per [`NOTICE_EVERY`].
#[derive(Debug, Default)]
struct NoticeLimit {
    last: Option<Instant>,
    held_back: u32,
}

impl NoticeLimit {
    /// A second instance announced itself at `now`: `Some(attempts)` to give
    /// a notice now (this attempt and those held back since the last
    /// notice), `None` to hold it back.
    fn hello(&mut self, now: Instant) -> Option<u32> {
        self.held_back = self.held_back.saturating_add(1);
        if self.last.is_some_and(|last| now.saturating_duration_since(last) < NOTICE_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
fn claim_machine(namespace: &str) -> Result<(MachineClaim, UnixListener), InstanceError> {
    // /tmp, not the per-user temporary directory: one kiosk per machine.
    let lock_path = PathBuf::from(format!("/tmp/exam-kiosk-{namespace}.lock"));
    let socket = PathBuf::from(format!("/tmp/exam-kiosk-{namespace}.sock"));
    // Read-only suffices for a lock, so a file another user created works too.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .or_else(|_| std::fs::File::open(&lock_path))
        .map_err(io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(tell_first(UnixStream::connect(&socket))),
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
    }
    // A socket left by a killed instance: we hold the lock, so it is stale.
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(io(&socket))?;
    Ok((MachineClaim(lock), listener))
}

impl FirstInstance {
    /// Calls `on_second` (on a thread of its own) when second instances
    /// announce themselves, with how many did since the previous call: at
    /// most once per [`NOTICE_EVERY`] (anyone can start the kiosk in a loop;
    /// the journal and the screen must not flood). Keeps the claims until
    /// the process ends.
    pub fn listen(self, on_second: impl Fn(u32) + Send + 'static) {
        let FirstInstance { _machine: machine, _data_dir: lock, listener } = self;
        let spawned = std::thread::Builder::new().name("single-instance".into()).spawn(move || {
            let _claims = (machine, lock);
            let mut limit = NoticeLimit::default();
            #[cfg(windows)]
            while listener.wait() {
                if let Some(attempts) = limit.hello(Instant::now()) {
                    on_second(attempts);
                }
            }
            #[cfg(unix)]
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // Read at most the greeting: a peer cannot make us buffer more.
                let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                let mut buf = [0u8; HELLO.len()];
                if stream.read_exact(&mut buf).is_ok() && buf == HELLO {
                    if let Some(attempts) = limit.hello(Instant::now()) {
                        on_second(attempts);
                    }
                }
            }
        });
        if let Err(e) = spawned {
            eprintln!("exam-kiosk: cannot listen for second instances: {e}");
        }
    }
}

/// The Windows claim: a named mutex for the machine, a named event for the
/// hello. The only unsafe code of the shell: Win32 calls, each with its
/// SAFETY reason.
#[cfg(windows)]
#[allow(unsafe_code)]
mod windows {
    use super::InstanceError;
    use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, HANDLE, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{CreateEventW, CreateMutexW, OpenEventW, SetEvent, WaitForSingleObject, EVENT_MODIFY_STATE, INFINITE};

    /// An owned kernel handle, closed when dropped. Kernel handles may be
    /// used from any thread.
    struct Owned(HANDLE);
    // SAFETY: a kernel object handle is not tied to the thread that opened it.
    unsafe impl Send for Owned {}
    impl Drop for Owned {
        fn drop(&mut self) {
            // SAFETY: the handle is ours and closed only here.
            unsafe { CloseHandle(self.0) };
        }
    }

    /// The machine's named mutex, held while the process runs.
    pub struct Mutex(#[allow(dead_code)] Owned);

    /// The named event second instances set.
    pub struct HelloEvent(Owned);

    impl HelloEvent {
        /// Waits until a second instance sets the event; false when waiting
        /// fails (the thread then stops listening; the claim still holds).
        pub fn wait(&self) -> bool {
            // SAFETY: a valid event handle we own.
            unsafe { WaitForSingleObject(self.0 .0, INFINITE) == WAIT_OBJECT_0 }
        }
    }

    fn wide(name: &str) -> Vec<u16> {
        name.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn os_error(what: &str) -> InstanceError {
        InstanceError::Io { what: what.to_owned(), source: std::io::Error::last_os_error() }
    }

    pub fn claim_machine(namespace: &str) -> Result<(Mutex, HelloEvent), InstanceError> {
        let mutex_name = format!("Global\\exam-kiosk-{namespace}");
        let event_name = format!("{mutex_name}-hello");
        // SAFETY: a NUL-terminated name; no security attributes (the default DACL).
        let handle = unsafe { CreateMutexW(std::ptr::null(), 0, wide(&mutex_name).as_ptr()) };
        // SAFETY: read right after the call it reports on.
        let error = unsafe { GetLastError() };
        if handle.is_null() {
            return Err(if error == ERROR_ACCESS_DENIED {
                InstanceError::Blocked { holder: format!("onbekend; {mutex_name} bestaat en is niet te openen") }
            } else {
                os_error(&mutex_name)
            });
        }
        let mutex = Mutex(Owned(handle));
        if error == ERROR_ALREADY_EXISTS {
            // Best effort: the refusal holds whether or not the first hears of it.
            // SAFETY: a NUL-terminated name; the handle is closed by Owned.
            let event = unsafe { OpenEventW(EVENT_MODIFY_STATE, 0, wide(&event_name).as_ptr()) };
            if !event.is_null() {
                let event = Owned(event);
                // SAFETY: a valid event handle opened for EVENT_MODIFY_STATE.
                unsafe { SetEvent(event.0) };
            }
            return Err(InstanceError::AlreadyRunning);
        }
        // Auto-reset: one wake-up per set, however many second instances set it.
        // SAFETY: a NUL-terminated name; no security attributes.
        let event = unsafe { CreateEventW(std::ptr::null(), 0, 0, wide(&event_name).as_ptr()) };
        if event.is_null() {
            return Err(os_error(&event_name));
        }
        Ok((mutex, HelloEvent(Owned(event))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A namespace of this test's own, so parallel tests and a kiosk
    /// running on the developer's machine are not disturbed.
    fn own_namespace(tag: &str) -> String {
        format!("unit-{tag}-{}", std::process::id())
    }

    #[test]
    fn a_second_kiosk_with_another_data_directory_is_refused_and_announced() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ns = own_namespace("other-dir");
        let first = claim(one.path(), &ns).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        first.listen(move |attempts| {
            let _ = tx.send(attempts);
        });
        match claim(two.path(), &ns) {
            Err(InstanceError::AlreadyRunning) => {}
            other => panic!("expected AlreadyRunning, got {:?}", other.err()),
        }
        match claim(one.path(), &ns) {
            Err(InstanceError::AlreadyRunning) => {}
            other => panic!("expected AlreadyRunning, got {:?}", other.err()),
        }
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).expect("the first instance heard of the second"), 1);
    }

    /// Issue: every hello was journalled and shown, without limit.
    #[test]
    fn a_flood_of_second_instances_gives_one_notice() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ns = own_namespace("flood");
        let (tx, rx) = std::sync::mpsc::channel();
        claim(one.path(), &ns).unwrap().listen(move |attempts| {
            let _ = tx.send(attempts);
        });
        for _ in 0..20 {
            assert!(matches!(claim(two.path(), &ns), Err(InstanceError::AlreadyRunning)));
        }
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), 1);
        // The other 19 are held back (told with the next notice, 5 s on).
        std::thread::sleep(Duration::from_millis(500));
        let more: Vec<u32> = rx.try_iter().collect();
        assert!(more.is_empty(), "more notices: {more:?}");
    }

    #[test]
    fn notices_are_paced_and_count_the_attempts_held_back() {
        let start = Instant::now();
        let mut limit = NoticeLimit::default();
        assert_eq!(limit.hello(start), Some(1));
        for i in 1..=9 {
            assert_eq!(limit.hello(start + Duration::from_millis(400 * i)), None);
        }
        assert_eq!(limit.hello(start + NOTICE_EVERY), Some(10));
        assert_eq!(limit.hello(start + NOTICE_EVERY + Duration::from_secs(1)), None);
        assert_eq!(limit.hello(start + NOTICE_EVERY * 3), Some(2));
    }

    /// Issue: any program could bind the abstract name first, and the
    /// kiosk then said "draait al". Here python3 holds the name.
    #[cfg(target_os = "linux")]
    #[test]
    fn another_program_holding_the_name_is_reported_as_blocking() {
        let ns = own_namespace("blocker");
        let script = format!(
            "import socket,sys,time\ns=socket.socket(socket.AF_UNIX)\ns.bind('\\0exam-kiosk/{ns}')\ns.listen(8)\nprint('ok',flush=True)\ntime.sleep(60)\n"
        );
        let Ok(mut blocker) = std::process::Command::new("/usr/bin/python3")
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("SKIPPED: /usr/bin/python3 is not installed");
            return;
        };
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(blocker.stdout.take().unwrap()), &mut line).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let result = claim(dir.path(), &ns);
        let _ = blocker.kill();
        let _ = blocker.wait();
        assert_eq!(line.trim(), "ok");
        match result {
            Err(err @ InstanceError::Blocked { .. }) => {
                let message = err.to_string();
                assert!(message.contains("python") && message.contains(&format!("pid {}", blocker.id())), "{message}");
                assert!(message.contains("blokkeert exam-kiosk"), "{message}");
            }
            other => panic!("expected Blocked, got {:?}", other.err()),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_an_exam_kiosk_executable_counts_as_the_kiosk() {
        assert!(is_kiosk(Some(Path::new("/usr/bin/exam-kiosk")), None));
        assert!(is_kiosk(Some(Path::new("/opt/exam/exam-kiosk (deleted)")), None));
        assert!(!is_kiosk(Some(Path::new("/usr/bin/python3.12")), Some("exam-kiosk")));
        assert!(!is_kiosk(Some(Path::new("/tmp/exam-kiosk-blocker")), None));
        assert!(is_kiosk(None, Some("exam-kiosk")));
        assert!(!is_kiosk(None, Some("socat")));
        assert!(!is_kiosk(None, None));
    }

    #[test]
    fn one_data_directory_is_never_shared_even_across_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let _first = claim(dir.path(), &own_namespace("a")).unwrap();
        match claim(dir.path(), &own_namespace("b")) {
            Err(InstanceError::DataDirInUse(d)) => assert_eq!(d, dir.path()),
            other => panic!("expected DataDirInUse, got {:?}", other.err()),
        }
    }

    #[test]
    fn a_dead_first_instance_frees_the_machine() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ns = own_namespace("freed");
        drop(claim(one.path(), &ns).unwrap());
        claim(two.path(), &ns).expect("free again once the first is gone");
    }

    #[test]
    fn only_test_automation_may_choose_a_namespace() {
        assert_eq!(namespace(false, Some("e2e-1".into())).unwrap(), MACHINE);
        assert_eq!(namespace(false, None).unwrap(), MACHINE);
        assert_eq!(namespace(true, None).unwrap(), MACHINE);
        assert_eq!(namespace(true, Some("e2e-1".into())).unwrap(), "e2e-1");
        for bad in ["", "../x", "a b", &"x".repeat(65)] {
            assert!(matches!(namespace(true, Some(bad.into())), Err(InstanceError::BadNamespace(_))), "{bad:?}");
        }
    }
}
