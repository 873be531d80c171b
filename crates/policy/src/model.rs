//! The policy model. Every struct denies unknown fields; keys are kebab-case
//! in TOML. See `docs/policy.md` for the meaning of every field.

use crate::defaults;
use crate::types::{Cidr, DesktopProgram, MacAddr, PublicKeyHex, SecretRef, Sha256Hex};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};

/// A complete exam policy, as signed by the exam committee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "exam-kiosk policy")]
pub struct Policy {
    /// Format version of the policy file; must be 1.
    pub version: u32,
    /// A human-readable name, shown to invigilators and written to the journal.
    pub name: String,
    /// Which kind of workstation this policy is for.
    pub profile: Profile,
    /// The school's exam hub and how the kiosk authenticates it.
    pub hub: HubConfig,
    /// The approved exam locations; the kiosk must prove it is in one of them.
    #[serde(rename = "location", default)]
    pub locations: Vec<Location>,
    /// Process rules used by the process guard.
    #[serde(default)]
    pub processes: ProcessRules,
    /// What to do about virtual machines, remote sessions, displays and screen capture.
    #[serde(default)]
    pub environment: EnvironmentRules,
    /// How a locked session may be unlocked.
    #[serde(default)]
    pub lock: LockRules,
    /// Keys whose signatures make an exam instrument acceptable.
    #[serde(rename = "instrument-key", default)]
    pub instrument_keys: Vec<TrustedKey>,
    /// Parameters of the signed local journal.
    #[serde(default)]
    pub journal: JournalSettings,
}

/// The kind of workstation a policy is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// A school-managed PC on the exam network: allow-list process control.
    SchoolPc,
    /// A student's own laptop: deny-list process control, proof of presence.
    Byod,
}

impl Profile {
    /// The process-rule mode a profile uses when the policy does not say.
    pub fn default_process_mode(self) -> ProcessMode {
        match self {
            Profile::SchoolPc => ProcessMode::AllowList,
            Profile::Byod => ProcessMode::DenyList,
        }
    }
}

/// The exam hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubConfig {
    /// Base URL of the hub, `https://...` (plain `http://` only for loopback hosts).
    pub url: String,
    /// Path of the pinned school CA certificate (PEM); relative to the policy file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// The pinned school CA certificate inline (PEM), instead of `ca-file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// SHA-256 fingerprint of the CA certificate (DER); must match the certificate.
    pub ca_sha256: Sha256Hex,
    /// Ed25519 key the hub signs its source-address echo with (for `hub-source` evidence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_public_key: Option<PublicKeyHex>,
}

/// An approved exam location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Location {
    /// Unique name, e.g. the room number `B2.04`.
    pub name: String,
    /// Free text for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether all (`all-of`) or at least one (`any-of`) of `evidence` must hold.
    #[serde(default)]
    pub require: Combinator,
    /// The evidence requirements.
    pub evidence: Vec<Requirement>,
}

impl Location {
    /// The location's requirements as one group.
    pub fn requirement(&self) -> Requirement {
        match self.require {
            Combinator::AllOf => Requirement::AllOf(self.evidence.clone()),
            Combinator::AnyOf => Requirement::AnyOf(self.evidence.clone()),
        }
    }
}

/// How a group of requirements combines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Combinator {
    /// Every requirement must hold.
    #[default]
    AllOf,
    /// At least one requirement must hold.
    AnyOf,
}

/// One evidence requirement. In TOML a table with exactly one key naming the
/// kind, e.g. `{ gateway = { ip = "10.20.4.1", mac = "00:11:22:33:44:55" } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Some local interface has an address inside one of the CIDRs.
    Interface(InterfaceReq),
    /// The default gateway has this address (and MAC, from the neighbour table).
    Gateway(GatewayReq),
    /// Connected to this Wi-Fi network (and one of these access points).
    Wifi(WifiReq),
    /// The hub saw the kiosk's connection come from one of these CIDRs.
    HubSource(HubSourceReq),
    /// A location beacon answered a fresh challenge with a valid signature.
    Beacon(BeaconReq),
    /// The student typed the room's current room code.
    RoomCode(RoomCodeReq),
    /// Every nested requirement must hold.
    AllOf(Vec<Requirement>),
    /// At least one nested requirement must hold.
    AnyOf(Vec<Requirement>),
}

impl Requirement {
    /// The TOML key of this kind, e.g. `gateway`.
    pub fn kind(&self) -> &'static str {
        match self {
            Requirement::Interface(_) => "interface",
            Requirement::Gateway(_) => "gateway",
            Requirement::Wifi(_) => "wifi",
            Requirement::HubSource(_) => "hub-source",
            Requirement::Beacon(_) => "beacon",
            Requirement::RoomCode(_) => "room-code",
            Requirement::AllOf(_) => "all-of",
            Requirement::AnyOf(_) => "any-of",
        }
    }

    /// Calls `f` on this requirement and every nested one, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Requirement)) {
        f(self);
        if let Requirement::AllOf(v) | Requirement::AnyOf(v) = self {
            for r in v {
                r.walk(f);
            }
        }
    }
}

/// Interface-address evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InterfaceReq {
    /// Networks (IPv4 and/or IPv6); an address in any of them satisfies the requirement.
    pub cidrs: Vec<Cidr>,
    /// Only consider this interface (e.g. `eth0`); any interface when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

/// Default-gateway evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayReq {
    /// The gateway's IP address (IPv4 or IPv6).
    pub ip: IpAddr,
    /// The gateway's MAC address as seen in the neighbour table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
}

/// Wi-Fi evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WifiReq {
    /// The network name.
    pub ssid: String,
    /// The room's access points; any access point of `ssid` when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bssids: Vec<MacAddr>,
}

/// Hub-observed source address evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubSourceReq {
    /// Networks the hub must have seen the connection come from.
    pub cidrs: Vec<Cidr>,
    /// Maximum age of the hub's signed echo, in seconds.
    #[serde(default = "defaults::hub_echo_max_age_secs")]
    pub max_age_secs: u32,
}

/// Location-beacon evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BeaconReq {
    /// UDP address of the beacon, e.g. `10.20.4.2:7207`.
    pub address: SocketAddr,
    /// The beacon's Ed25519 public key (64 hex digits).
    pub public_key: PublicKeyHex,
    /// The beacon's identity string, if it must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Largest accepted difference between the beacon's timestamp and the kiosk's clock, ms.
    #[serde(default = "defaults::beacon_max_age_ms")]
    pub max_age_ms: u32,
    /// How long to wait for the answer, ms (also the largest accepted round trip).
    #[serde(default = "defaults::beacon_timeout_ms")]
    pub timeout_ms: u32,
}

/// Room-code (TOTP) evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RoomCodeReq {
    /// The room whose code is meant (shown on the invigilator's screen).
    pub room: String,
    /// Where the room's TOTP secret is (`file:PATH` or `env:NAME`).
    pub secret: SecretRef,
    /// Seconds per code, 30..=60.
    #[serde(default = "defaults::room_code_step_secs")]
    pub step_secs: u32,
    /// Digits per code, 6..=8.
    #[serde(default = "defaults::room_code_digits")]
    pub digits: u8,
    /// The HMAC function.
    #[serde(default)]
    pub algorithm: TotpAlgorithm,
}

/// HMAC function for TOTP (RFC 6238).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TotpAlgorithm {
    /// HMAC-SHA1, what authenticator apps use.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// Process rules (used by the process guard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProcessRules {
    /// `allow-list` (only allowed processes may run in the user session) or
    /// `deny-list` (denied processes are ended); defaults by profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ProcessMode>,
    /// Add the built-in default deny list (`policies/default-deny.toml`).
    #[serde(default = "defaults::yes")]
    pub include_default_deny: bool,
    /// Interval of the safety-net full sweep, ms.
    #[serde(default = "defaults::sweep_interval_ms")]
    pub sweep_interval_ms: u32,
    /// Time between SIGTERM and SIGKILL, ms.
    #[serde(default = "defaults::kill_grace_ms")]
    pub kill_grace_ms: u32,
    /// Processes that must not run.
    #[serde(default)]
    pub deny: Vec<ProcessRule>,
    /// Processes that may run (wins over `deny`).
    #[serde(default)]
    pub allow: Vec<ProcessRule>,
    /// Named sets of extra allowed tools, granted per student.
    #[serde(rename = "accommodation", default)]
    pub accommodations: Vec<Accommodation>,
    /// Process control by behaviour: programs of the session that use the
    /// display server, capture the screen or inject input (`[processes.display]`).
    #[serde(default)]
    pub display: DisplayRules,
}

/// Process control by what a program does rather than what it is called:
/// during the exam, a program of the student's session that is a client of
/// the display server (X11, Wayland), is connected to PipeWire, holds a video
/// device or `/dev/uinput` is ended unless it is one of the desktop's own
/// programs listed here (and its executable is root-owned in root-owned
/// directories), an allowed tool, or part of the kiosk itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DisplayRules {
    /// End programs by behaviour; default: on for `byod` (deny-list mode
    /// leaves unlisted programs running), off for `school-pc` (its allow-list
    /// already ends every unlisted program).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<bool>,
    /// The desktop's own display clients: window manager, panel, input
    /// method, settings daemons. Honoured only for a root-owned executable in
    /// root-owned directories that no one else may write.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<DesktopProgram>,
}

impl Default for ProcessRules {
    fn default() -> Self {
        ProcessRules {
            mode: None,
            include_default_deny: true,
            sweep_interval_ms: defaults::sweep_interval_ms(),
            kill_grace_ms: defaults::kill_grace_ms(),
            deny: Vec::new(),
            allow: Vec::new(),
            accommodations: Vec::new(),
            display: DisplayRules::default(),
        }
    }
}

/// Allow-list or deny-list process control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessMode {
    /// Only allowed processes may run in the user session.
    AllowList,
    /// Denied processes are ended; everything else may run.
    DenyList,
}

/// Matches a process. Every matcher that is given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProcessRule {
    /// Process name glob (`*`, `?`), case-insensitive; `.exe`/`.app` suffixes are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Executable path glob, e.g. `/opt/anydesk/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// SHA-256 of the executable file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe_sha256: Option<Sha256Hex>,
    /// Glob over the command line (arguments joined by spaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    /// Parent process name glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Only on these operating systems; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<Os>,
    /// Category for reports, e.g. `remote-control`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Os {
    /// Linux.
    Linux,
    /// Windows.
    Windows,
    /// macOS.
    Macos,
}

impl Os {
    /// The OS this program was built for, if it is one of the three.
    pub fn current() -> Option<Os> {
        if cfg!(target_os = "linux") {
            Some(Os::Linux)
        } else if cfg!(target_os = "windows") {
            Some(Os::Windows)
        } else if cfg!(target_os = "macos") {
            Some(Os::Macos)
        } else {
            None
        }
    }
}

/// A named set of extra allowed tools (e.g. read-aloud software), granted to
/// individual students by their assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Accommodation {
    /// Identifier referenced by assignments, e.g. `read-aloud`.
    pub id: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tools this accommodation allows.
    pub allow: Vec<ProcessRule>,
}

/// What to do when an environment check fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing.
    Allow,
    /// Journal it and notify the invigilator.
    Warn,
    /// Lock the session until an invigilator unlocks it.
    Lock,
    /// Do not start an exam at all.
    RefuseStart,
}

/// Environment checks and their actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EnvironmentRules {
    /// Running inside a virtual machine (defaults to `warn`: false positives are common).
    #[serde(default = "defaults::vm_action")]
    pub vm: Action,
    /// A remote session (SSH, VNC, RDP) is active or a remote-access server listens.
    #[serde(default = "defaults::remote_session_action")]
    pub remote_session: Action,
    /// More displays than `max-displays` are connected.
    #[serde(default = "defaults::displays_action")]
    pub displays: Action,
    /// Largest allowed number of displays.
    #[serde(default = "defaults::max_displays")]
    pub max_displays: u8,
    /// A screen-capture tool is running.
    #[serde(default = "defaults::screen_capture_action")]
    pub screen_capture: Action,
    /// Lets a WebDriver (tauri-driver, WebKitWebDriver) drive the exam
    /// window: only for the project's own end-to-end tests and demo, never in
    /// a school's policy. When set, the kiosk keeps the automation variables
    /// of its environment, journals it (`kiosk.test_automation`) and shows
    /// TESTMODUS on every screen; when not, it removes them before the web
    /// view exists, so nothing outside can script the exam page.
    #[serde(default)]
    pub test_automation: bool,
}

impl Default for EnvironmentRules {
    fn default() -> Self {
        EnvironmentRules {
            vm: defaults::vm_action(),
            remote_session: defaults::remote_session_action(),
            displays: defaults::displays_action(),
            max_displays: defaults::max_displays(),
            screen_capture: defaults::screen_capture_action(),
            test_automation: false,
        }
    }
}

/// How a session is unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnlockMethod {
    /// An invigilator unlocks from the hub console (online).
    Hub,
    /// An invigilator types a one-time offline unlock code.
    OfflineCode,
}

/// Lock and unlock rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockRules {
    /// Which unlock methods are accepted.
    #[serde(default = "defaults::unlock_methods")]
    pub unlock_methods: Vec<UnlockMethod>,
    /// Secret for offline unlock codes (required with `offline-code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_code_secret: Option<SecretRef>,
    /// Wrong unlock attempts allowed per window before unlocking pauses.
    #[serde(default = "defaults::max_failed_unlocks")]
    pub max_failed_unlocks: u32,
    /// The window for `max-failed-unlocks`, seconds.
    #[serde(default = "defaults::failed_unlock_window_secs")]
    pub failed_unlock_window_secs: u32,
    /// The invigilator must give a reason (goes into the journal).
    #[serde(default = "defaults::yes")]
    pub require_reason: bool,
    /// Lock when the kiosk window loses focus.
    #[serde(default = "defaults::yes")]
    pub lock_on_focus_loss: bool,
    /// Invigilators who may unlock at the PC with a personal PIN. The policy
    /// is signed, so this is the signed roster.
    #[serde(default, rename = "invigilator", skip_serializing_if = "Vec::is_empty")]
    pub invigilators: Vec<InvigilatorEntry>,
}

/// An invigilator who may unlock at the PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InvigilatorEntry {
    /// Account id (goes into the journal with every unlock).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The PIN's salted slow hash: `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`
    /// (make one with `kioskctl invigilator pin-hash`).
    #[schemars(with = "String")]
    pub pin: exam_secure::PasswordHash,
}

impl Default for LockRules {
    fn default() -> Self {
        LockRules {
            unlock_methods: defaults::unlock_methods(),
            offline_code_secret: None,
            max_failed_unlocks: defaults::max_failed_unlocks(),
            failed_unlock_window_secs: defaults::failed_unlock_window_secs(),
            require_reason: true,
            lock_on_focus_loss: true,
            invigilators: Vec::new(),
        }
    }
}

/// A trusted signing key (for exam instruments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TrustedKey {
    /// Unique identifier, e.g. `exam-committee-2025`.
    pub id: String,
    /// The Ed25519 public key.
    pub public_key: PublicKeyHex,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Journal parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JournalSettings {
    /// Start a new epoch (fresh epoch key) after this many records.
    #[serde(default = "defaults::epoch_records")]
    pub epoch_records: u64,
    /// Start a new epoch after this many minutes.
    #[serde(default = "defaults::epoch_minutes")]
    pub epoch_minutes: u32,
    /// Write a Merkle checkpoint after this many records.
    #[serde(default = "defaults::checkpoint_records")]
    pub checkpoint_records: u64,
    /// Write a Merkle checkpoint after this many seconds.
    #[serde(default = "defaults::checkpoint_seconds")]
    pub checkpoint_seconds: u32,
    /// Start a new segment file after this many bytes.
    #[serde(default = "defaults::segment_bytes")]
    pub segment_bytes: u64,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            epoch_records: defaults::epoch_records(),
            epoch_minutes: defaults::epoch_minutes(),
            checkpoint_records: defaults::checkpoint_records(),
            checkpoint_seconds: defaults::checkpoint_seconds(),
            segment_bytes: defaults::segment_bytes(),
        }
    }
}

impl Policy {
    /// The effective process mode (explicit, or the profile's default).
    pub fn process_mode(&self) -> ProcessMode {
        self.processes
            .mode
            .unwrap_or_else(|| self.profile.default_process_mode())
    }

    /// Whether the guard ends programs by behaviour (`[processes.display]`).
    pub fn display_rules_enforced(&self) -> bool {
        self.processes.display.enforce.unwrap_or(self.profile == Profile::Byod)
    }

    /// The location with this name.
    pub fn location(&self, name: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.name == name)
    }
}
