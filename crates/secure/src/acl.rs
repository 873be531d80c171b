//! Windows: a private file's access control list (FFI through `windows-sys`;
//! with `kiosk_core::lockdown::windows` and `::macos` the only modules of the
//! workspace allowed `unsafe` — docs/architecture.md, "unsafe code").
//!
//! What 0600 is on Unix: [`restrict_to_current_user`] gives a file a
//! *protected* DACL (nothing inherited from its directory, and later changes
//! to the directory's inheritable entries do not reach it) with one entry:
//! full access for the user of this process's token. Nobody else is named:
//! not Everyone, Users or Authenticated Users, and not SYSTEM or
//! Administrators either — no service of exam-kiosk reads another account's
//! key files on Windows (the kiosk runs as the student, `kioskctl` and the
//! hub as whoever writes the file), and an administrator who needs the file
//! can still take ownership (SeTakeOwnershipPrivilege, which is audited)
//! or read it with backup privilege, as root reads a 0600 file. As on
//! Unix, the owner can change the DACL again.
//!
//! A file system that keeps no ACLs (FAT/exFAT on a USB stick: its volume
//! lacks `FILE_PERSISTENT_ACLS`) is left as it is, like a 0600 mode that
//! vfat ignores.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle as _;
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::Security::Authorization::{SetSecurityInfo, SE_FILE_OBJECT};
use windows_sys::Win32::Security::{
    AddAccessAllowedAceEx, GetLengthSid, GetTokenInformation, InitializeAcl, TokenUser, ACCESS_ALLOWED_ACE, ACE_FLAGS,
    ACL, ACL_REVISION, DACL_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{GetVolumeInformationByHandleW, FILE_ALL_ACCESS};
use windows_sys::Win32::System::SystemServices::FILE_PERSISTENT_ACLS;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// The access a private file is opened with on Windows: writing, and
/// reading and changing its own DACL ([`restrict_to_current_user`]).
pub(crate) const PRIVATE_ACCESS: u32 = windows_sys::Win32::Foundation::GENERIC_WRITE
    | windows_sys::Win32::Storage::FileSystem::READ_CONTROL
    | windows_sys::Win32::Storage::FileSystem::WRITE_DAC;

/// Gives `file` a protected DACL granting full access to the current user
/// only. `file` must be open with [`PRIVATE_ACCESS`].
pub(crate) fn restrict_to_current_user(file: &File) -> io::Result<()> {
    let handle = file.as_raw_handle() as HANDLE;
    if !keeps_acls(handle)? {
        return Ok(());
    }
    let user = current_user_sid()?;
    let acl = Acl::new(&[(user.sid(), 0)])?;
    // SAFETY: `handle` is the open file's handle (with WRITE_DAC and
    // READ_CONTROL); `acl` is an initialised ACL that outlives the call; the
    // owner, group and SACL are not set (null).
    let status = unsafe {
        SetSecurityInfo(
            handle,
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            acl.as_ptr(),
            std::ptr::null(),
        )
    };
    if status != 0 {
        return Err(io::Error::new(
            io::Error::from_raw_os_error(status as i32).kind(),
            format!("could not make the file private (SetSecurityInfo): {}", io::Error::from_raw_os_error(status as i32)),
        ));
    }
    Ok(())
}

/// True when the file's volume keeps ACLs (NTFS, ReFS), false on FAT.
fn keeps_acls(handle: HANDLE) -> io::Result<bool> {
    let mut flags = 0u32;
    // SAFETY: `handle` is an open file handle; only the flags out-pointer is
    // given, every buffer is null with size 0.
    let ok = unsafe {
        GetVolumeInformationByHandleW(
            handle,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut flags,
            std::ptr::null_mut(),
            0,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & FILE_PERSISTENT_ACLS != 0)
}

/// A handle closed when dropped.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by us and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

/// The process token's `TOKEN_USER`, in a buffer aligned for it.
pub(crate) struct UserSid {
    buffer: Vec<u64>,
}

impl UserSid {
    /// The SID inside the buffer (valid while `self` lives).
    pub(crate) fn sid(&self) -> *mut c_void {
        // SAFETY: the buffer holds a TOKEN_USER written by
        // GetTokenInformation and is aligned for it (u64 elements).
        unsafe { (*self.buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid }
    }
}

/// The user of this process's token.
pub(crate) fn current_user_sid() -> io::Result<UserSid> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: GetCurrentProcess returns a pseudo-handle (never closed);
    // `token` is a valid out-pointer.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let token = Handle(token);
    let mut needed = 0u32;
    // SAFETY: a size query: no buffer (null, length 0), `needed` receives the size.
    unsafe { GetTokenInformation(token.0, TokenUser, std::ptr::null_mut(), 0, &mut needed) };
    if needed == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
    // SAFETY: `buffer` is writable for `needed` bytes (rounded up to u64s).
    let ok = unsafe { GetTokenInformation(token.0, TokenUser, buffer.as_mut_ptr().cast(), needed, &mut needed) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UserSid { buffer })
}

/// A DACL of access-allowed entries with full access, built in an aligned buffer.
pub(crate) struct Acl {
    buffer: Vec<u64>,
}

impl Acl {
    /// One `FILE_ALL_ACCESS` entry per (SID, inheritance flags).
    pub(crate) fn new(entries: &[(*mut c_void, ACE_FLAGS)]) -> io::Result<Self> {
        let mut size = std::mem::size_of::<ACL>();
        for (sid, _) in entries {
            // SAFETY: every SID given is a valid SID (from the token or
            // CreateWellKnownSid) that outlives this call.
            let sid_len = unsafe { GetLengthSid(*sid) } as usize;
            size += std::mem::size_of::<ACCESS_ALLOWED_ACE>() - std::mem::size_of::<u32>() + sid_len;
        }
        let size = size.next_multiple_of(4);
        let mut buffer = vec![0u64; size.div_ceil(8)];
        let acl = buffer.as_mut_ptr().cast::<ACL>();
        // SAFETY: `acl` points to `size` writable bytes, aligned for ACL.
        if unsafe { InitializeAcl(acl, size as u32, ACL_REVISION) } == 0 {
            return Err(io::Error::last_os_error());
        }
        for (sid, flags) in entries {
            // SAFETY: `acl` was initialised above with room for every entry;
            // `sid` is valid (above).
            if unsafe { AddAccessAllowedAceEx(acl, ACL_REVISION, *flags, FILE_ALL_ACCESS, *sid) } == 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Self { buffer })
    }

    pub(crate) fn as_ptr(&self) -> *const ACL {
        self.buffer.as_ptr().cast()
    }
}

/// Reading a file's DACL back (tests only).
#[cfg(test)]
pub(crate) mod inspect {
    use super::*;
    use std::path::Path;
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{ConvertSidToStringSidW, GetNamedSecurityInfoW, SetNamedSecurityInfoW};
    use windows_sys::Win32::Security::{
        CreateWellKnownSid, GetAce, GetSecurityDescriptorControl, WinWorldSid, ACE_HEADER, CONTAINER_INHERIT_ACE,
        OBJECT_INHERIT_ACE, SECURITY_MAX_SID_SIZE, SE_DACL_PROTECTED,
    };

    /// Everyone (`S-1-1-0`).
    pub const EVERYONE: &str = "S-1-1-0";

    /// One entry of a DACL.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Entry {
        /// `ACCESS_ALLOWED_ACE_TYPE` (0), `ACCESS_DENIED_ACE_TYPE` (1), …
        pub kind: u8,
        /// Inheritance flags (`INHERITED_ACE` = 0x10: came from the directory).
        pub flags: u8,
        /// The access mask.
        pub mask: u32,
        /// The SID as `S-1-…`.
        pub sid: String,
    }

    /// A file's DACL as read back by `GetNamedSecurityInfoW`.
    #[derive(Debug)]
    pub struct Dacl {
        /// `SE_DACL_PROTECTED`: nothing is inherited.
        pub protected: bool,
        /// The entries in order.
        pub entries: Vec<Entry>,
    }

    fn wide(path: &Path) -> Vec<u16> {
        use std::os::windows::ffi::OsStrExt as _;
        path.as_os_str().encode_wide().chain([0]).collect()
    }

    /// `sid` as `S-1-…`.
    pub fn sid_string(sid: *mut c_void) -> String {
        let mut text: *mut u16 = std::ptr::null_mut();
        // SAFETY: `sid` is a valid SID; `text` receives a LocalAlloc'd
        // string, read up to its terminating 0 and freed once.
        unsafe {
            assert_ne!(ConvertSidToStringSidW(sid, &mut text), 0, "{}", io::Error::last_os_error());
            let len = (0..).take_while(|&i| *text.add(i) != 0).count();
            let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
            LocalFree(text.cast());
            s
        }
    }

    /// The current user's SID as `S-1-…`.
    pub fn current_user() -> String {
        sid_string(current_user_sid().unwrap().sid())
    }

    /// Reads `path`'s DACL.
    pub fn dacl(path: &Path) -> Dacl {
        let name = wide(path);
        let mut dacl: *mut ACL = std::ptr::null_mut();
        let mut descriptor: *mut c_void = std::ptr::null_mut();
        // SAFETY: `name` is a 0-terminated path; the out-pointers are valid;
        // `descriptor` (which `dacl` points into) is freed once, after use.
        unsafe {
            let status = GetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut dacl,
                std::ptr::null_mut(),
                &mut descriptor,
            );
            assert_eq!(status, 0, "GetNamedSecurityInfoW({}): {}", path.display(), io::Error::from_raw_os_error(status as i32));
            let mut control = 0u16;
            let mut revision = 0u32;
            assert_ne!(GetSecurityDescriptorControl(descriptor, &mut control, &mut revision), 0);
            let mut entries = Vec::new();
            assert!(!dacl.is_null(), "{}: no DACL at all (everyone has full access)", path.display());
            for i in 0..u32::from((*dacl).AceCount) {
                let mut ace: *mut c_void = std::ptr::null_mut();
                assert_ne!(GetAce(dacl, i, &mut ace), 0);
                let header = *ace.cast::<ACE_HEADER>();
                // Allowed and denied entries share the layout of ACCESS_ALLOWED_ACE.
                let allowed = ace.cast::<ACCESS_ALLOWED_ACE>();
                let sid = std::ptr::addr_of_mut!((*allowed).SidStart).cast::<c_void>();
                entries.push(Entry { kind: header.AceType, flags: header.AceFlags, mask: (*allowed).Mask, sid: sid_string(sid) });
            }
            LocalFree(descriptor);
            Dacl { protected: control & SE_DACL_PROTECTED != 0, entries }
        }
    }

    /// Gives the directory `dir` a DACL whose entries files created in it
    /// inherit: full access for Everyone and for the current user — what a
    /// file written there gets unless it is given a DACL of its own.
    pub fn let_everyone_in(dir: &Path) {
        let mut everyone = [0u64; (SECURITY_MAX_SID_SIZE as usize).div_ceil(8)];
        let mut len = SECURITY_MAX_SID_SIZE;
        let user = current_user_sid().unwrap();
        let inherit = OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE;
        // SAFETY: `everyone` has room for the largest SID; `len` says so.
        unsafe {
            assert_ne!(CreateWellKnownSid(WinWorldSid, std::ptr::null_mut(), everyone.as_mut_ptr().cast(), &mut len), 0);
        }
        let acl = Acl::new(&[(everyone.as_mut_ptr().cast(), inherit), (user.sid(), inherit)]).unwrap();
        let name = wide(dir);
        // SAFETY: `name` is a 0-terminated path and `acl` an initialised ACL.
        let status = unsafe {
            SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                acl.as_ptr(),
                std::ptr::null(),
            )
        };
        assert_eq!(status, 0, "SetNamedSecurityInfoW({}): {}", dir.display(), io::Error::from_raw_os_error(status as i32));
    }
}
