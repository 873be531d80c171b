//! `exam-kiosk-helper`: the exam kiosk's privileged helper.
//!
//! ```text
//! exam-kiosk-helper serve (--allow-user NAME | --allow-uid UID) [--socket PATH]
//!                         [--min-target-uid UID] [--state-dir DIR]
//!                         [--sysrq-file FILE] [--dmi-dir DIR]
//! exam-kiosk-helper restore-sysrq [--state-dir DIR] [--sysrq-file FILE]
//! exam-kiosk-helper request 'JSON' [--socket PATH]
//! ```
//!
//! `serve` runs the helper (as root, from `exam-kiosk-helper.service`);
//! `restore-sysrq` puts SysRq back after a crash or on removal; `request`
//! sends one request line and prints the answer (for IT and tests).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("exam-kiosk-helper: {message}");
            ExitCode::from(2)
        }
    }
}

/// The value after `--name`, if given.
fn option(args: &[String], name: &str) -> Result<Option<String>, String> {
    match args.iter().position(|a| a == name) {
        Some(i) => args.get(i + 1).cloned().map(Some).ok_or_else(|| format!("{name} needs a value")),
        None => Ok(None),
    }
}

#[cfg(target_os = "linux")]
fn run(args: &[String]) -> Result<ExitCode, String> {
    use exam_privhelper::client::{self, DEFAULT_SOCKET};
    use exam_privhelper::server::{self, ServerConfig};
    use std::path::PathBuf;

    let path = |name: &str, default: &str| -> Result<PathBuf, String> {
        Ok(PathBuf::from(option(args, name)?.unwrap_or_else(|| default.to_owned())))
    };
    match args.first().map(String::as_str) {
        Some("serve") => {
            let allowed_uid = match (option(args, "--allow-user")?, option(args, "--allow-uid")?) {
                (Some(user), None) => {
                    exam_privhelper::process::uid_of_user(&user).ok_or_else(|| format!("no user {user:?} in /etc/passwd"))?
                }
                (None, Some(uid)) => uid.parse().map_err(|_| format!("--allow-uid {uid:?} is not a number"))?,
                _ => return Err("serve needs exactly one of --allow-user NAME or --allow-uid UID".into()),
            };
            let min_target_uid = match option(args, "--min-target-uid")? {
                Some(v) => v.parse().map_err(|_| format!("--min-target-uid {v:?} is not a number"))?,
                None => server::DEFAULT_MIN_TARGET_UID,
            };
            let config = ServerConfig {
                socket: path("--socket", DEFAULT_SOCKET)?,
                allowed_uid,
                min_target_uid,
                state_dir: path("--state-dir", server::DEFAULT_STATE_DIR)?,
                sysrq_file: path("--sysrq-file", server::SYSRQ_FILE)?,
                dmi_dir: path("--dmi-dir", server::DMI_DIR)?,
            };
            server::serve(config).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Some("restore-sysrq") => {
            let state_dir = path("--state-dir", server::DEFAULT_STATE_DIR)?;
            let sysrq_file = path("--sysrq-file", server::SYSRQ_FILE)?;
            match server::restore_sysrq(&state_dir, &sysrq_file) {
                Ok(Some((before, now))) => println!("SysRq restored: {before} -> {now}"),
                Ok(None) => println!("SysRq: nothing to restore"),
                Err(e) => return Err(format!("cannot restore SysRq: {e}")),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("request") => {
            let json = args.get(1).ok_or("request needs a JSON argument")?;
            let socket = path("--socket", DEFAULT_SOCKET)?;
            let response = client::send_raw(&socket, format!("{json}\n").as_bytes()).map_err(|e| e.to_string())?;
            println!("{}", response.to_line().trim_end());
            Ok(if response.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        _ => Err("usage: exam-kiosk-helper serve|restore-sysrq|request (see docs/installer.md)".into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn run(args: &[String]) -> Result<ExitCode, String> {
    let _ = option(args, "--socket")?;
    Err("the privileged helper exists on Linux only".into())
}
