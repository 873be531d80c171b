//! Writing a file atomically and durably: the bytes go to a new temporary
//! file in the same directory (when private: mode 0600 on Unix; on Windows
//! a protected DACL for the current user only, set before any byte is
//! written, see `acl.rs`), are synced,
//! and the file is renamed onto its name; then the directory is synced. A
//! reader sees the old file or the new one, never a part; a crash leaves at
//! most a stray `.NAME.*.tmp`; a private file is never readable by others,
//! not even for a moment, whatever the umask and whatever the mode of a file
//! it replaces.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// How to write a file: private or not, replacing or refusing an existing
/// one. `FileWrite::PRIVATE.write(path, bytes)`, or
/// `FileWrite::PRIVATE.create_new().write(…)` for a key that must never be
/// overwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileWrite {
    private: bool,
    create_new: bool,
}

impl FileWrite {
    /// Readable by its owner only (0600 on Unix; on Windows a protected DACL
    /// granting only the current user); replaces an existing file.
    pub const PRIVATE: Self = Self { private: true, create_new: false };
    /// The default mode less the umask; replaces an existing file.
    pub const PUBLIC: Self = Self { private: false, create_new: false };

    /// Refuses (`ErrorKind::AlreadyExists`) when the file exists; that check
    /// and the write are one step (a hard link of the finished temporary
    /// file), so two writers never both succeed.
    pub const fn create_new(self) -> Self {
        Self { create_new: true, ..self }
    }

    /// Writes `bytes` to `path` (its directory must exist).
    pub fn write(self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if self.create_new && path.symlink_metadata().is_ok() {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", path.display())));
        }
        let (tmp, mut file) = self.create_temp(dir, name)?;
        let result = file.write_all(bytes).and_then(|()| file.sync_all()).and_then(|()| {
            drop(file);
            if self.create_new {
                self.link_new(&tmp, path, bytes)
            } else {
                std::fs::rename(&tmp, path)
            }
        });
        // After a link the temporary name is left over; after a failure, the
        // whole temporary file.
        let _ = std::fs::remove_file(&tmp);
        result?;
        sync_dir(dir)
    }

    fn options(self) -> OpenOptions {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if self.private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        // Nobody else may open the file while it still has the DACL it
        // inherited from its directory (share mode 0) until
        // [`Self::open_new`] has replaced it.
        #[cfg(windows)]
        if self.private {
            use std::os::windows::fs::OpenOptionsExt as _;
            options.share_mode(0).access_mode(crate::acl::PRIVATE_ACCESS);
        }
        options
    }

    /// Creates `path` (which must not exist) for writing; a private file
    /// gets its DACL on Windows before anything is written to it. A file
    /// that cannot be made private is removed again.
    fn open_new(self, path: &Path) -> io::Result<File> {
        let file = self.options().open(path)?;
        #[cfg(windows)]
        if self.private {
            if let Err(e) = crate::acl::restrict_to_current_user(&file) {
                drop(file);
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
        }
        Ok(file)
    }

    fn create_temp(self, dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
        let rng = ring::rand::SystemRandom::new();
        let mut last = None;
        for _ in 0..8 {
            let mut suffix = [0u8; 6];
            ring::rand::SecureRandom::fill(&rng, &mut suffix).map_err(|_| io::Error::other("the system random generator failed"))?;
            let mut tmp_name = OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}.tmp", hex::encode(suffix)));
            let tmp = dir.join(tmp_name);
            match self.open_new(&tmp) {
                Ok(file) => return Ok((tmp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no temporary name")))
    }

    /// Puts the finished temporary file at `path` unless something is there.
    /// A file system without hard links (FAT on a USB stick) gets the file
    /// written in place with `create_new`: still never overwriting, durable
    /// once synced, but a crash may leave it partly written.
    fn link_new(self, tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
        match std::fs::hard_link(tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            Err(_) => {
                let mut file = self.open_new(path)?;
                file.write_all(bytes).and_then(|()| file.sync_all())
            }
        }
    }
}

/// Writes `bytes` to `path`, replacing it atomically and durably, readable
/// by its owner only: `FileWrite::PRIVATE.write(path, bytes)`.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    FileWrite::PRIVATE.write(path, bytes)
}

/// Syncs a directory, so a file created or renamed in it survives a crash
/// (a no-op where a directory cannot be opened as a file: Windows).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_atomically_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(leftovers(dir.path()), ["token"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_private_file_is_0600_even_replacing_a_readable_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"secret").unwrap();
        assert_eq!(mode(&path), 0o600, "the old file's mode does not carry over");
        FileWrite::PUBLIC.write(&dir.path().join("cert"), b"public").unwrap();
        assert_ne!(mode(&dir.path().join("cert")) & 0o044, 0, "public under the usual umask");
    }

    /// Issue 21: on Windows a private file got no ACL of its own, so it
    /// inherited its directory's — here one that lets Everyone read and
    /// write every file in it. Now it has a protected DACL with one entry,
    /// the current user's; a public file still inherits (which also shows
    /// the directory's DACL took effect).
    #[cfg(windows)]
    #[test]
    fn a_private_file_gets_a_protected_dacl_for_the_current_user_only() {
        use crate::acl::inspect::{current_user, dacl, let_everyone_in, EVERYONE};
        let dir = tempfile::tempdir().unwrap();
        let_everyone_in(dir.path());
        let public = dir.path().join("cert");
        FileWrite::PUBLIC.write(&public, b"public").unwrap();
        let inherited = dacl(&public);
        assert!(inherited.entries.iter().any(|e| e.sid == EVERYONE), "the directory's entries reach a public file: {inherited:?}");

        let me = current_user();
        // A readable file in its place, a new file, and a key that must not be overwritten.
        let key = dir.path().join("key");
        std::fs::write(&key, b"old").unwrap();
        write_private(&key, b"secret").unwrap();
        let fresh = dir.path().join("token");
        write_private(&fresh, b"token").unwrap();
        let signing = dir.path().join("signing.key");
        FileWrite::PRIVATE.create_new().write(&signing, b"signing").unwrap();
        for path in [&key, &fresh, &signing] {
            let found = dacl(path);
            assert!(found.protected, "{}: inheritance is off: {found:?}", path.display());
            assert_eq!(found.entries.len(), 1, "{}: one entry only: {found:?}", path.display());
            let entry = &found.entries[0];
            assert_eq!((entry.kind, entry.flags, &entry.sid), (0, 0, &me), "{}: allowed, not inherited, the current user", path.display());
            assert_eq!(entry.mask & 0x001f_01ff, 0x001f_01ff, "{}: full access for the owner: {entry:?}", path.display());
        }
        // The owner still reads and replaces them.
        assert_eq!(std::fs::read(&key).unwrap(), b"secret");
        assert_eq!(std::fs::read(&signing).unwrap(), b"signing");
        write_private(&key, b"newer").unwrap();
        assert_eq!(std::fs::read(&key).unwrap(), b"newer");
        assert!(dacl(&key).protected);
        assert_eq!(leftovers(dir.path()), ["cert", "key", "signing.key", "token"]);
    }

    #[test]
    fn create_new_refuses_an_existing_file_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        FileWrite::PRIVATE.create_new().write(&path, b"first").unwrap();
        let err = FileWrite::PRIVATE.create_new().write(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(leftovers(dir.path()), ["signing.key"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_stray_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_private(&dir.path().join("nope/file"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(leftovers(dir.path()).is_empty());
    }
}
