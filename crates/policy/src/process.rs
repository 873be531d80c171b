//! Process-rule matching (used by the process guard) and the built-in
//! default deny list shipped as `policies/default-deny.toml`.

use crate::load::{line_col, Diagnostic, PolicyError};
use crate::model::{Os, Policy, ProcessMode, ProcessRule};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The text of `policies/default-deny.toml`, compiled in.
pub const DEFAULT_DENY_TOML: &str = include_str!("../../../policies/default-deny.toml");

/// The default deny list file: `[[deny]]` rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyList {
    /// The rules.
    pub deny: Vec<ProcessRule>,
}

/// Parses a deny-list file (format of `policies/default-deny.toml`).
pub fn parse_deny_list(text: &str, origin: &str) -> Result<Vec<ProcessRule>, PolicyError> {
    toml::from_str::<DenyList>(text)
        .map(|d| d.deny)
        .map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            PolicyError::Invalid(vec![Diagnostic {
                file: origin.to_string(),
                line,
                column,
                message: e.message().trim_end().to_string(),
            }])
        })
}

/// The accommodation id the kiosk grants its guard itself when an
/// instrument gives read-aloud to everyone (issue 19): the kiosk's own
/// speech engine and nothing else. Not a planning value (the hub refuses
/// it there). A policy may define it; one that does not gets
/// [`kiosk_read_aloud_rule`], so an older or a school's own allow-list
/// policy does not end the engine and lock the student out.
pub const KIOSK_READ_ALOUD: &str = "kiosk-read-aloud";

/// The built-in rule of [`KIOSK_READ_ALOUD`]: `/usr/bin/espeak-ng`, only
/// as the kiosk's child, on Linux.
pub fn kiosk_read_aloud_rule() -> &'static ProcessRule {
    static RULE: std::sync::OnceLock<ProcessRule> = std::sync::OnceLock::new();
    RULE.get_or_init(|| ProcessRule {
        name: Some("espeak-ng".into()),
        exe: Some("/usr/bin/espeak-ng".into()),
        parent: Some("exam-kiosk".into()),
        os: vec![Os::Linux],
        category: Some("assistive".into()),
        ..Default::default()
    })
}

impl Policy {
    /// The allow rules of the granted `accommodations` (the policy's, and
    /// the built-in [`KIOSK_READ_ALOUD`] where the policy lacks it).
    fn granted_rules<'a>(&'a self, accommodations: &'a [&'a str]) -> impl Iterator<Item = &'a ProcessRule> + 'a {
        let defined = self.processes.accommodations.iter().any(|a| a.id == KIOSK_READ_ALOUD);
        let builtin = (!defined && accommodations.contains(&KIOSK_READ_ALOUD)).then(kiosk_read_aloud_rule);
        self.processes.accommodations.iter().filter(move |a| accommodations.contains(&a.id.as_str())).flat_map(|a| a.allow.iter()).chain(builtin)
    }
}

/// The built-in default deny list.
pub fn default_deny_rules() -> Vec<ProcessRule> {
    // The file is compiled in and covered by a test; an error here is a build defect.
    parse_deny_list(DEFAULT_DENY_TOML, "policies/default-deny.toml").unwrap_or_default()
}

/// What the guard knows about a process. Fields it could not read are `None`
/// and never match a rule that needs them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessFacts<'a> {
    /// The process name (full executable base name where known, not the
    /// 15-byte truncated `comm`).
    pub name: &'a str,
    /// Full executable path.
    pub exe: Option<&'a str>,
    /// SHA-256 of the executable.
    pub exe_sha256: Option<&'a [u8; 32]>,
    /// Command line, arguments joined by spaces.
    pub cmdline: Option<&'a str>,
    /// Parent process name.
    pub parent: Option<&'a str>,
}

impl ProcessRule {
    /// Whether the rule applies on this OS.
    pub fn applies_here(&self) -> bool {
        self.os.is_empty() || Os::current().is_some_and(|os| self.os.contains(&os))
    }

    /// Whether matching needs the executable's SHA-256.
    pub fn needs_exe_hash(&self) -> bool {
        self.exe_sha256.is_some()
    }

    /// Whether every matcher the rule gives matches `p` (and the rule applies here).
    pub fn matches(&self, p: &ProcessFacts<'_>) -> bool {
        if !self.applies_here() {
            return false;
        }
        if let Some(pat) = &self.name {
            if !name_matches(pat, p.name) {
                return false;
            }
        }
        if let Some(pat) = &self.exe {
            match p.exe {
                Some(exe) if glob(pat.as_bytes(), exe.as_bytes(), false) => {}
                _ => return false,
            }
        }
        if let Some(want) = &self.exe_sha256 {
            match p.exe_sha256 {
                Some(have) if *have == want.0 => {}
                _ => return false,
            }
        }
        if let Some(pat) = &self.cmdline {
            match p.cmdline {
                Some(c) if glob(pat.as_bytes(), c.as_bytes(), false) => {}
                _ => return false,
            }
        }
        if let Some(pat) = &self.parent {
            match p.parent {
                Some(parent) if name_matches(pat, parent) => {}
                _ => return false,
            }
        }
        true
    }

    /// A short label for reports and the journal.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.name {
            parts.push(format!("name={n}"));
        }
        if let Some(e) = &self.exe {
            parts.push(format!("exe={e}"));
        }
        if let Some(h) = &self.exe_sha256 {
            parts.push(format!("sha256={}", &h.to_string()[..16]));
        }
        if let Some(c) = &self.cmdline {
            parts.push(format!("cmdline={c}"));
        }
        if let Some(p) = &self.parent {
            parts.push(format!("parent={p}"));
        }
        parts.join(" ")
    }
}

/// The guard's verdict on one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum ProcessVerdict {
    /// Explicitly allowed (by the policy or an accommodation).
    Allowed {
        /// The rule that allowed it.
        rule: String,
    },
    /// Must be ended.
    Denied {
        /// The rule that denied it, or `not on the allow list`.
        rule: String,
    },
    /// Neither: may run (deny-list mode).
    Unlisted,
}

impl Policy {
    /// The deny rules in force: the policy's own plus the default list if included.
    pub fn effective_deny_rules(&self) -> Vec<ProcessRule> {
        let mut rules = self.processes.deny.clone();
        if self.processes.include_default_deny {
            rules.extend(default_deny_rules());
        }
        rules
    }

    /// Judges a process: allow rules (policy, then the given accommodations)
    /// win over deny rules; in allow-list mode an unlisted process is denied.
    /// (Whether a process belongs to the user session at all is the guard's call.)
    pub fn judge_process(&self, p: &ProcessFacts<'_>, accommodations: &[&str], deny: &[ProcessRule]) -> ProcessVerdict {
        for rule in self.processes.allow.iter().chain(self.granted_rules(accommodations)) {
            if rule.matches(p) {
                return ProcessVerdict::Allowed { rule: rule.label() };
            }
        }
        for rule in deny {
            if rule.matches(p) {
                return ProcessVerdict::Denied { rule: rule.label() };
            }
        }
        match self.process_mode() {
            ProcessMode::AllowList => ProcessVerdict::Denied {
                rule: "not on the allow list".into(),
            },
            ProcessMode::DenyList => ProcessVerdict::Unlisted,
        }
    }
}

/// The verdict on a program that uses the display server, captures the
/// screen or injects input ([`Policy::judge_display_client`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum DisplayVerdict {
    /// One of the desktop's own programs (or an allowed tool), from a trusted executable.
    Allowed {
        /// The entry that allowed it.
        rule: String,
    },
    /// Must be ended.
    Denied {
        /// Why: not listed, or listed but not from a trusted executable.
        why: String,
    },
}

impl Policy {
    /// Judges a program seen using the display (or capturing, or injecting
    /// input): it may go on only when it matches `[processes.display] allow`,
    /// an `[[processes.allow]]` rule or a granted accommodation **and**
    /// `exe_trusted` — its executable is a root-owned file in root-owned
    /// directories no one else may write (the guard checks that on the
    /// running process). A renamed copy in the student's home matches by name
    /// but is not trusted; a trusted tool that is not listed is not allowed.
    pub fn judge_display_client(&self, p: &ProcessFacts<'_>, exe_trusted: bool, accommodations: &[&str]) -> DisplayVerdict {
        let listed = self
            .processes
            .display
            .allow
            .iter()
            .find(|entry| {
                if entry.is_path() {
                    p.exe.is_some_and(|exe| exe == entry.as_str())
                } else {
                    name_matches(entry.as_str(), p.name)
                }
            })
            .map(|entry| format!("display:{entry}"))
            .or_else(|| self.processes.allow.iter().chain(self.granted_rules(accommodations)).find(|r| r.matches(p)).map(|r| format!("allow:{}", r.label())));
        match listed {
            None => DisplayVerdict::Denied { why: "not one of the desktop's programs ([processes.display] allow)".into() },
            Some(rule) if !exe_trusted => DisplayVerdict::Denied {
                why: format!(
                    "matches {rule}, but its executable (or a library it runs) is not a root-owned file in root-owned directories (a renamed or copied program)"
                ),
            },
            Some(rule) => DisplayVerdict::Allowed { rule },
        }
    }
}

impl Policy {
    /// The granted accommodation rule that allows `p`, if any (used for a
    /// trusted script run by a trusted interpreter: `p` names the script).
    pub fn accommodation_allows(&self, p: &ProcessFacts<'_>, accommodations: &[&str]) -> Option<String> {
        self.granted_rules(accommodations).find(|r| r.matches(p)).map(|r| format!("accommodation:{}", r.label()))
    }
}

fn strip_suffix_ci<'a>(s: &'a str, suffixes: &[&str]) -> &'a str {
    for suf in suffixes {
        if s.len() > suf.len() {
            let cut = s.len() - suf.len();
            if s.is_char_boundary(cut) && s[cut..].eq_ignore_ascii_case(suf) {
                return &s[..cut];
            }
        }
    }
    s
}

fn name_matches(pattern: &str, name: &str) -> bool {
    let pattern = strip_suffix_ci(pattern, &[".exe", ".app"]);
    let name = strip_suffix_ci(name, &[".exe", ".app"]);
    glob(pattern.as_bytes(), name.as_bytes(), true)
}

/// Glob match with `*` (any run) and `?` (one byte). Single-star
/// backtracking: at worst O(pattern × text), never exponential.
pub fn glob(pattern: &[u8], text: &[u8], ignore_case: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || (pattern[p] != b'*' && eq(pattern[p], text[t]))) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_cases() {
        assert!(glob(b"any*", b"AnyDesk", true));
        assert!(!glob(b"any*", b"AnyDesk", false));
        assert!(glob(b"*x11grab*", b"ffmpeg -f x11grab -i :0", false));
        assert!(glob(b"obs?4", b"obs64", false));
        assert!(!glob(b"obs", b"obs64", false));
        assert!(glob(b"*", b"", false));
        assert!(glob(b"a*b*c", b"aXXbYYc", false));
        assert!(!glob(b"a*b*c", b"aXXbYY", false));
        // Pathological pattern stays fast.
        let text = vec![b'a'; 10_000];
        assert!(!glob(b"*a*a*a*a*a*b", &text, false));
    }

    #[test]
    fn names_ignore_exe_suffix_and_case() {
        assert!(name_matches("AnyDesk", "anydesk.exe"));
        assert!(name_matches("Discord.exe", "Discord"));
        assert!(name_matches("zoom*", "zoom.us.app"));
        assert!(!name_matches("obs", "jobs"));
        assert!(name_matches(".exe", ".exe"));
        assert!(!name_matches("x", "é"));
    }

    #[test]
    fn rule_needs_all_matchers() {
        let rule = ProcessRule {
            name: Some("ffmpeg".into()),
            cmdline: Some("*x11grab*".into()),
            ..Default::default()
        };
        let mut p = ProcessFacts {
            name: "ffmpeg",
            cmdline: Some("ffmpeg -i in.mp4 out.webm"),
            ..Default::default()
        };
        assert!(!rule.matches(&p));
        p.cmdline = Some("ffmpeg -f x11grab -i :0 out.mkv");
        assert!(rule.matches(&p));
        p.cmdline = None;
        assert!(!rule.matches(&p), "unknown cmdline never matches");
        let hash_rule = ProcessRule {
            exe_sha256: Some(crate::types::Sha256Hex([7; 32])),
            ..Default::default()
        };
        assert!(hash_rule.needs_exe_hash());
        assert!(!hash_rule.matches(&ProcessFacts { name: "x", ..Default::default() }));
        assert!(hash_rule.matches(&ProcessFacts {
            name: "x",
            exe_sha256: Some(&[7; 32]),
            ..Default::default()
        }));
    }

    #[test]
    fn default_deny_list_is_big_and_valid() {
        let rules = parse_deny_list(DEFAULT_DENY_TOML, "default-deny.toml").unwrap();
        assert!(rules.len() >= 60, "only {} rules", rules.len());
        for r in &rules {
            assert!(r.name.is_some() || r.exe.is_some() || r.cmdline.is_some(), "{r:?}");
            assert!(r.category.is_some(), "{r:?} has no category");
        }
        for os in [Os::Linux, Os::Windows, Os::Macos] {
            assert!(rules.iter().any(|r| r.os.contains(&os)), "no {os:?}-specific rules");
        }
        let facts = |name| ProcessFacts { name, ..Default::default() };
        let denied = |name| rules.iter().any(|r| r.matches(&facts(name)));
        for bad in ["AnyDesk", "TeamViewer", "rustdesk", "Discord", "obs", "ms-teams", "slack", "firefox", "ChatGPT"] {
            assert!(denied(bad), "{bad} not denied");
        }
        for ok in ["exam-kiosk", "bash", "systemd", "orca", "Xorg", "WebKitWebProcess", "gnome-shell"] {
            assert!(!denied(ok), "{ok} denied");
        }
    }

    #[test]
    fn display_clients_need_the_list_and_a_trusted_executable() {
        let mut policy = crate::parse_policy(include_str!("../../../policies/byod.toml"), "byod.toml", None).unwrap();
        policy.processes.display.allow = vec!["gnome-shell".parse().unwrap(), "/usr/bin/xprop".parse().unwrap()];
        assert!(policy.display_rules_enforced());
        let facts = |name, exe| ProcessFacts { name, exe: Some(exe), ..Default::default() };
        let shell = facts("gnome-shell", "/usr/bin/gnome-shell");
        assert!(matches!(policy.judge_display_client(&shell, true, &[]), DisplayVerdict::Allowed { rule } if rule == "display:gnome-shell"));
        let copied = facts("gnome-shell", "/home/s/gnome-shell");
        assert!(matches!(policy.judge_display_client(&copied, false, &[]), DisplayVerdict::Denied { why } if why.contains("root-owned")));
        let vnc = facts("x11vnc", "/usr/bin/x11vnc");
        assert!(matches!(policy.judge_display_client(&vnc, true, &[]), DisplayVerdict::Denied { why } if why.contains("desktop")));
        // A path entry matches that executable only, under any name.
        assert!(matches!(policy.judge_display_client(&facts("xprop", "/usr/bin/xprop"), true, &[]), DisplayVerdict::Allowed { .. }));
        assert!(matches!(policy.judge_display_client(&facts("xprop", "/tmp/t/xprop"), true, &[]), DisplayVerdict::Denied { .. }));
        // An accommodation's tool counts only for the student who has it.
        let orca = facts("orca", "/usr/bin/orca");
        assert!(matches!(policy.judge_display_client(&orca, true, &[]), DisplayVerdict::Denied { .. }));
        if cfg!(target_os = "linux") {
            assert!(matches!(policy.judge_display_client(&orca, true, &["screen-reader"]), DisplayVerdict::Allowed { .. }));
        }
    }
}
