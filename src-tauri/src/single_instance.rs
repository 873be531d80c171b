//! One kiosk per data directory.
//!
//! The first instance holds an exclusive lock on `state/instance.lock` for
//! its whole life and listens on `state/instance.sock`. A second instance
//! finds the lock taken, tells the first over the socket (which journals the
//! attempt and shows it on screen), and exits without opening a window — so
//! it can neither cover the running exam nor touch its journal. The lock is
//! the truth (the kernel drops it when a process dies, also after kill -9);
//! the socket only carries the message.

use std::io::{Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file, in the data directory's `state/`.
const LOCK_FILE: &str = "instance.lock";
/// The socket the first instance listens on.
const SOCKET_FILE: &str = "instance.sock";
/// What a second instance sends.
const HELLO: &[u8] = b"second-instance\n";
/// How long the first instance waits for a peer's message.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Why this process may not run as the kiosk.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// Another exam-kiosk runs on the same data directory.
    #[error("exam-kiosk draait al op deze pc (gegevensmap {0}); deze tweede start is geweigerd en het lopende examen gaat door")]
    AlreadyRunning(PathBuf),
    /// The lock file or socket could not be set up.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Held by the first instance: the lock and the listening socket.
pub struct FirstInstance {
    _lock: std::fs::File,
    listener: UnixListener,
}

/// Takes the data directory for this process, or tells the instance that
/// has it and returns [`InstanceError::AlreadyRunning`].
pub fn claim(data_dir: &Path) -> Result<FirstInstance, InstanceError> {
    let state = data_dir.join(kiosk_core::kiosk::dirs::STATE);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| InstanceError::Io { path, source }
    };
    std::fs::create_dir_all(&state).map_err(io(&state))?;
    let lock_path = state.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
    let socket = state.join(SOCKET_FILE);
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            // Best effort: the refusal holds whether or not the first hears of it.
            if let Ok(mut stream) = UnixStream::connect(&socket) {
                let _ = stream.write_all(HELLO);
            }
            return Err(InstanceError::AlreadyRunning(data_dir.to_owned()));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
    }
    // A socket left by a killed instance: we hold the lock, so it is stale.
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(io(&socket))?;
    Ok(FirstInstance { _lock: lock, listener })
}

impl FirstInstance {
    /// Calls `on_second` (on a thread of its own) each time a second
    /// instance announces itself. Keeps the lock until the process ends.
    pub fn listen(self, on_second: impl Fn() + Send + 'static) {
        let FirstInstance { _lock: lock, listener } = self;
        let spawned = std::thread::Builder::new().name("single-instance".into()).spawn(move || {
            let _lock = lock;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // Read at most the greeting: a peer cannot make us buffer more.
                let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                let mut buf = [0u8; HELLO.len()];
                if stream.read_exact(&mut buf).is_ok() && buf == HELLO {
                    on_second();
                }
            }
        });
        if let Err(e) = spawned {
            eprintln!("exam-kiosk: cannot listen for second instances: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_and_announced_to_the_first() {
        let tmp = tempfile::tempdir().unwrap();
        let first = claim(tmp.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        first.listen(move || {
            let _ = tx.send(());
        });
        match claim(tmp.path()) {
            Err(InstanceError::AlreadyRunning(dir)) => assert_eq!(dir, tmp.path()),
            other => panic!("expected AlreadyRunning, got {:?}", other.err()),
        }
        rx.recv_timeout(Duration::from_secs(10)).expect("the first instance heard of the second");
    }
}
