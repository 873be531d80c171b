//! Process control by behaviour (issue 15): what a program *does* that
//! lets it see or drive the exam — it is a client of the display server, it
//! is connected to PipeWire (screen casts, also through the portal), it holds
//! a video device or `/dev/uinput` — independent of its name.
//!
//! The platform supplies the observations ([`BehaviourWatch`], Linux:
//! `platform/linux_display.rs`); the guard decides with
//! [`exam_policy::Policy::judge_display_client`].

use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// Why the guard ends (or would end) a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A rule of the name list (the shipped default deny list or the policy's).
    DenyRule,
    /// Allow-list mode: the process is not on the allow list.
    NotAllowed,
    /// A client of the display server (X11 or Wayland): it can show windows
    /// over the exam, read the screen or send input.
    DisplayClient,
    /// Connected to PipeWire or holding a video device: it can capture the
    /// screen (a screen cast through the portal is a PipeWire stream).
    ScreenCapture,
    /// Holds `/dev/uinput`: it can inject keyboard and mouse input (remote control).
    InputInjection,
}

impl Reason {
    /// The kebab-case word used in the journal and in rule texts.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DenyRule => "deny-rule",
            Reason::NotAllowed => "not-allowed",
            Reason::DisplayClient => "display-client",
            Reason::ScreenCapture => "screen-capture",
            Reason::InputInjection => "input-injection",
        }
    }
}

/// One thing a process was seen doing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Use {
    /// What it means.
    pub reason: Reason,
    /// What was seen, e.g. `X11 client of :0 (X-Resource)`,
    /// `connected to /run/user/1000/wayland-0`, `holds /dev/video0`.
    pub evidence: String,
}

impl Use {
    /// A use.
    pub fn new(reason: Reason, evidence: impl Into<String>) -> Self {
        Self { reason, evidence: evidence.into() }
    }
}

/// Which display server and sockets the guard watches; from the session's
/// environment ([`DisplayTargets::from_env`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayTargets {
    /// The X11 display (`DISPLAY`, e.g. `:0`).
    pub x11: Option<String>,
    /// The Wayland compositor's socket (`$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY`).
    pub wayland: Option<PathBuf>,
    /// PipeWire's sockets (`$XDG_RUNTIME_DIR/pipewire-0`, `pipewire-0-manager`).
    pub pipewire: Vec<PathBuf>,
}

impl DisplayTargets {
    /// From `DISPLAY`, `WAYLAND_DISPLAY` and `XDG_RUNTIME_DIR`.
    pub fn from_env() -> Self {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let runtime = var("XDG_RUNTIME_DIR").map(PathBuf::from);
        let wayland = var("WAYLAND_DISPLAY").and_then(|w| {
            let w = PathBuf::from(w);
            if w.is_absolute() {
                Some(w)
            } else {
                runtime.as_ref().map(|r| r.join(w))
            }
        });
        let pipewire = runtime.iter().flat_map(|r| [r.join("pipewire-0"), r.join("pipewire-0-manager")]).collect();
        Self { x11: var("DISPLAY").map(|d| d.to_string_lossy().into_owned()), wayland, pipewire }
    }
}

/// What the platform can observe about processes' behaviour.
pub trait BehaviourWatch: Send {
    /// The local X11 clients now (X-Resource: one round trip), by pid.
    /// Empty when there is no X display or it has no X-Resource.
    fn x11_clients(&mut self) -> Vec<u32>;
    /// The client ends of connections to the watched server sockets
    /// (Wayland compositor, X11, PipeWire): socket inode → what it means.
    fn socket_clients(&mut self) -> HashMap<u64, Use>;
    /// The watched servers' listening sockets (inodes) seen by the last
    /// [`BehaviourWatch::socket_clients`]: whoever holds one is the display
    /// server (or PipeWire) itself, never a client to end.
    fn server_sockets(&self) -> std::collections::HashSet<u64>;
    /// The sockets (inodes) and the watched devices `pid` holds open.
    fn fds_of(&mut self, pid: u32) -> (Vec<u64>, Vec<Use>);
    /// Whether the running executable of `pid` is a root-owned file, not
    /// writable by group or others, in directories that are all root-owned
    /// and not writable by group or others — a file the student cannot have
    /// put there or renamed.
    fn exe_trusted(&mut self, pid: u32) -> bool;
    /// The script a trusted interpreter runs for `pid`, when it is one: the
    /// first argument after harmless interpreter flags, an absolute path to
    /// a trusted file, with no variable in the process's environment that
    /// puts other code into the interpreter (`PYTHONPATH`, `PERL5OPT`, ...).
    /// `None` for anything else (`-c` code, `-m` modules, an untrusted script).
    fn script_of(&mut self, pid: u32) -> Option<String>;
    /// What the watch could not do (no X-Resource, no socket diagnostics),
    /// for the journal; empty when everything works.
    fn limits(&self) -> Vec<String>;
}
