//! `cargo xtask demo`: a local exam-hub with demo data and the kiosk.
//!
//! With a display (`DISPLAY` set): starts the kiosk in DEMO mode (windowed,
//! guard reporting only) and prints the demo credentials; the hub stops when
//! the kiosk closes. Without a display: runs the whole exam under Xvfb,
//! driven like a student would, and saves a screenshot of every screen to
//! `target/demo/`.

use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack, DEMO_PIN};
use std::process::Command;

fn main() {
    let out = workspace().join("target/demo");
    let _ = std::fs::remove_dir_all(&out);
    let stack = match Stack::start(&out.join("data")) {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!("demo: setting up the hub failed: {e}");
            std::process::exit(1);
        }
    };
    println!("== exam-hub with demo data: {}", stack.hub_url);
    println!("   students (studentnummer / toegangscode):");
    for s in &stack.students {
        println!("     {}  {:<16} {}", s.number, s.name, s.code);
    }
    println!("   invigilator PIN (surveillant): {DEMO_PIN}");
    let interactive = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if interactive {
        println!("== starting the kiosk (DEMO mode: windowed, guard reports only)");
        let status = Command::new(bin("exam-kiosk")).envs(stack.kiosk_env(true, None)).status();
        println!("kiosk ended: {status:?}");
        return;
    }
    println!("== no display: running the exam under Xvfb and saving every screen to {}", out.display());
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        let display = Display::start()?;
        let driver = Driver::start(&display, &stack.kiosk_env(true, None))?;
        let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap_or_default()).await?;
        // In DEMO mode the guard only reports, so no program is ended and nothing locks.
        let result = scenario::exam_flow(&session, &stack, &out, false, None).await;
        session.close().await;
        result
    });
    match result {
        Ok(observed) => {
            println!("== done: receipt {}; screenshots:", observed.receipt);
            for s in observed.screenshots {
                println!("   target/demo/{s}");
            }
            let journal = stack.kiosk_data.join("journal");
            println!("== the kiosk's integrity journal ({})", journal.display());
            let _ = Command::new(bin("kioskctl")).args(["journal", "show"]).arg(&journal).status();
            let _ = Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(&journal).status();
        }
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::exit(1);
        }
    }
}
