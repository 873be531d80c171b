//! Which processes a guard may act on.

use super::platform::ProcessPlatform;
use super::ProcessInfo;
use std::fmt;
use std::str::FromStr;

/// Deepest process tree the guard walks up when checking ancestry.
const MAX_TREE_DEPTH: usize = 128;

/// The processes a guard may judge and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Processes of one user (the exam user's session, or the BYOD student).
    User(u32),
    /// The descendants of a process, not the process itself (tests; a
    /// kiosk that starts the exam session's programs itself).
    Tree(u32),
}

impl Scope {
    /// Whether `process` is inside the scope.
    pub fn contains(&self, process: &ProcessInfo, platform: &mut impl ProcessPlatform) -> bool {
        match *self {
            Scope::User(uid) => process.uid == Some(uid),
            Scope::Tree(root) => {
                if process.pid == root {
                    return false;
                }
                let mut pid = Some(process.pid);
                let mut parent = process.ppid;
                for _ in 0..MAX_TREE_DEPTH {
                    match pid {
                        Some(p) if p == root => return true,
                        Some(p) if p > 1 => {
                            pid = parent.or_else(|| platform.parent_of(p));
                            parent = None;
                        }
                        _ => return false,
                    }
                }
                false
            }
        }
    }
}

impl Scope {
    /// Cheap pre-check on a bare PID (before reading the process's details):
    /// false when the process is certainly outside the scope.
    pub fn may_contain_pid(&self, pid: u32, platform: &mut impl ProcessPlatform) -> bool {
        match *self {
            Scope::User(uid) => platform.uid_of(pid).is_none_or(|owner| owner == uid),
            Scope::Tree(_) => {
                let probe = ProcessInfo { pid, ppid: platform.parent_of(pid), ..ProcessInfo::default() };
                self.contains(&probe, platform)
            }
        }
    }
}

impl FromStr for Scope {
    type Err = String;

    /// `user:UID`, `user:NAME` or `tree:PID`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{text:?} is not a scope; expected user:UID, user:NAME or tree:PID");
        let (kind, value) = text.split_once(':').ok_or_else(bad)?;
        match kind {
            "tree" => value.parse().map(Scope::Tree).map_err(|_| bad()),
            "user" => match value.parse() {
                Ok(uid) => Ok(Scope::User(uid)),
                Err(_) => super::platform::uid_of_user(value)
                    .map(Scope::User)
                    .ok_or_else(|| format!("no user named {value:?}")),
            },
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::User(uid) => write!(f, "user:{uid}"),
            Scope::Tree(pid) => write!(f, "tree:{pid}"),
        }
    }
}
