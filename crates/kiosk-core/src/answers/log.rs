//! The encrypted append-only log under the answer store.
//!
//! ```text
//! header:  "EXAMANS1" (8) | store id (16 random bytes) | key check (16)
//! record:  u32 BE n | nonce (12) | AES-256-GCM ciphertext of JSON (n bytes incl. 16-byte tag)
//!          AAD = RECORD_AAD_DOMAIN | store id | u64 BE record index
//! key check = first 16 bytes of HMAC-SHA256(key, "exam-kiosk/answers/key-check/v1\0" | store id)
//! ```

use super::{AnswerError, AnswerKey, Record};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hmac;
use ring::rand::{SecureRandom as _, SystemRandom};
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// The log file's name inside the store directory.
pub const LOG_FILE: &str = "answers.log";
/// First 8 bytes of the log.
pub const LOG_MAGIC: &[u8; 8] = b"EXAMANS1";
/// Domain separator of the per-record associated data.
pub const RECORD_AAD_DOMAIN: &[u8] = b"exam-kiosk/answers/record/v1\0";
/// Largest record accepted.
pub const MAX_RECORD_BYTES: u32 = 1024 * 1024;
const KEY_CHECK_DOMAIN: &[u8] = b"exam-kiosk/answers/key-check/v1\0";
const HEADER_LEN: usize = 8 + 16 + 16;
const TAG_LEN: usize = 16;

pub(crate) struct Log {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    aead: LessSafeKey,
    store_id: [u8; 16],
    next_index: u64,
    len: u64,
    poisoned: bool,
    rng: SystemRandom,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Log({}, records={})", self.path.display(), self.next_index)
    }
}

fn key_check(key: &AnswerKey, store_id: &[u8; 16]) -> [u8; 16] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, &key.0);
    let mut msg = KEY_CHECK_DOMAIN.to_vec();
    msg.extend_from_slice(store_id);
    let tag = hmac::sign(&k, &msg);
    let mut out = [0u8; 16];
    out.copy_from_slice(&tag.as_ref()[..16]);
    out
}

fn aad(store_id: &[u8; 16], index: u64) -> Vec<u8> {
    let mut m = RECORD_AAD_DOMAIN.to_vec();
    m.extend_from_slice(store_id);
    m.extend_from_slice(&index.to_be_bytes());
    m
}

fn sync_dir(dir: &Path) -> Result<(), AnswerError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|source| AnswerError::Io { path: dir.into(), source })?;
        d.sync_all().map_err(|source| AnswerError::Io { path: dir.into(), source })?;
    }
    let _ = dir;
    Ok(())
}

/// Takes the store's exclusive lock (`File::try_lock`: `flock` on Unix,
/// `LockFileEx` on Windows), so a second kiosk on the same store is refused
/// on every platform. On Windows the lock is mandatory: while a kiosk holds
/// the store, no other program reads or writes the log's bytes either.
fn lock(file: &File, path: &Path) -> Result<(), AnswerError> {
    // A process forked by this one holds a copy of the descriptor (and so the
    // lock) until it execs; wait that out before calling the store "in use".
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(AnswerError::Locked(path.into())),
            Err(std::fs::TryLockError::Error(source)) => return Err(AnswerError::Io { path: path.into(), source }),
        }
    }
}

/// How long to wait for another holder of the store's lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Log {
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn open_existing(dir: &Path, key: &AnswerKey) -> Result<(Self, Vec<Record>), AnswerError> {
        let path = dir.join(LOG_FILE);
        if !path.exists() {
            return Err(AnswerError::Io { path, source: std::io::Error::from(std::io::ErrorKind::NotFound) });
        }
        Self::open_or_create(dir, key)
    }

    pub(crate) fn open_or_create(dir: &Path, key: &AnswerKey) -> Result<(Self, Vec<Record>), AnswerError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AnswerError::Io { path: path.clone(), source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOG_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io(&path))?;
        lock(&file, &path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(&path))?;
        let aead = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key.0).map_err(|_| AnswerError::WrongKey(path.clone()))?);
        let rng = SystemRandom::new();

        if bytes.len() < HEADER_LEN {
            // New, or a crash while creating it (before any record could be saved).
            let mut store_id = [0u8; 16];
            rng.fill(&mut store_id).map_err(|_| AnswerError::Random)?;
            let mut header = LOG_MAGIC.to_vec();
            header.extend_from_slice(&store_id);
            header.extend_from_slice(&key_check(key, &store_id));
            file.set_len(0).map_err(io(&path))?;
            file.seek(SeekFrom::Start(0)).map_err(io(&path))?;
            file.write_all(&header).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
            sync_dir(dir)?;
            let log = Log { dir: dir.into(), path, file, aead, store_id, next_index: 0, len: HEADER_LEN as u64, poisoned: false, rng };
            return Ok((log, Vec::new()));
        }
        if &bytes[..8] != LOG_MAGIC {
            return Err(AnswerError::Damaged { path, offset: 0, reason: "not an answer store (wrong magic)".into() });
        }
        let mut store_id = [0u8; 16];
        store_id.copy_from_slice(&bytes[8..24]);
        if bytes[24..40] != key_check(key, &store_id) {
            return Err(AnswerError::WrongKey(path));
        }

        let mut records = Vec::new();
        let mut offset = HEADER_LEN;
        let mut index = 0u64;
        let mut torn: Option<(usize, String)> = None;
        while offset < bytes.len() {
            let rest = &bytes[offset..];
            if rest.len() < 4 {
                torn = Some((offset, "incomplete length".into()));
                break;
            }
            let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let frame_len = 4 + NONCE_LEN + n as usize;
            if n > MAX_RECORD_BYTES || (n as usize) < TAG_LEN || rest.len() < frame_len {
                // A record whose bytes did not all reach the disk: only possible at the end.
                torn = Some((offset, format!("incomplete or impossible record of {n} bytes")));
                break;
            }
            let mut nonce = [0u8; NONCE_LEN];
            nonce.copy_from_slice(&rest[4..4 + NONCE_LEN]);
            let mut ct = rest[4 + NONCE_LEN..frame_len].to_vec();
            let opened = aead
                .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad(&store_id, index)), &mut ct)
                .ok()
                .and_then(|plain| serde_json::from_slice::<Record>(plain).ok());
            match opened {
                Some(record) => records.push(record),
                None if offset + frame_len == bytes.len() => {
                    // A whole last frame that does not open is a torn write,
                    // unless it opens as a *later* record: then records
                    // before it were removed.
                    let later = (index + 1..index + 64).any(|i| {
                        let mut ct = rest[4 + NONCE_LEN..frame_len].to_vec();
                        aead.open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad(&store_id, i)), &mut ct).is_ok()
                    });
                    if later {
                        return Err(AnswerError::Damaged {
                            path,
                            offset: offset as u64,
                            reason: "records before the last one were removed".into(),
                        });
                    }
                    torn = Some((offset, "last record does not decrypt (torn write)".into()));
                    break;
                }
                None => {
                    return Err(AnswerError::Damaged {
                        path,
                        offset: offset as u64,
                        reason: "a record does not decrypt: the file was changed, or records were removed or reordered".into(),
                    })
                }
            }
            offset += frame_len;
            index += 1;
        }
        if let Some((at, _reason)) = torn {
            // Set the torn bytes aside (evidence: private, and durable before
            // the log is cut), then cut the log back to its last whole record.
            let aside = dir.join(format!("{LOG_FILE}.torn-{at}"));
            exam_secure::write_private(&aside, &bytes[at..]).map_err(io(&aside))?;
            file.set_len(at as u64).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
            sync_dir(dir)?;
        }
        let len = file.seek(SeekFrom::End(0)).map_err(io(&path))?;
        let log = Log { dir: dir.into(), path, file, aead, store_id, next_index: index, len, poisoned: false, rng };
        Ok((log, records))
    }

    /// Appends a record and fsyncs; returns only when it is durable.
    pub(crate) fn append(&mut self, record: &Record) -> Result<(), AnswerError> {
        if self.poisoned {
            return Err(AnswerError::Io {
                path: self.path.clone(),
                source: std::io::Error::other("an earlier write failed and could not be undone; reopen the store"),
            });
        }
        let mut plain = serde_json::to_vec(record).map_err(|e| AnswerError::Invalid(e.to_string()))?;
        if plain.len() + TAG_LEN > MAX_RECORD_BYTES as usize {
            return Err(AnswerError::Invalid(format!("record of {} bytes is too large", plain.len())));
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| AnswerError::Random)?;
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad(&self.store_id, self.next_index)), &mut plain)
            .map_err(|_| AnswerError::Random)?;
        let mut frame = Vec::with_capacity(4 + NONCE_LEN + plain.len());
        frame.extend_from_slice(&(plain.len() as u32).to_be_bytes());
        frame.extend_from_slice(&nonce);
        frame.extend_from_slice(&plain);
        let result = self.file.write_all(&frame).and_then(|()| self.file.sync_data());
        if let Err(source) = result {
            // Never leave a half record in the middle of the log: cut it off
            // again so the next append starts on a record boundary.
            let restored = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.seek(SeekFrom::Start(self.len)).map(|_| ()))
                .and_then(|()| self.file.sync_data());
            if restored.is_err() {
                self.poisoned = true;
            }
            return Err(AnswerError::Io { path: self.path.clone(), source });
        }
        self.len += frame.len() as u64;
        self.next_index += 1;
        Ok(())
    }
}
