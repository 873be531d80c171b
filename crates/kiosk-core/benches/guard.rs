//! Guard benchmarks (not criterion: they need percentiles and wall time).
//!
//! 1. Time from `spawn` of a prohibited process to its confirmed death,
//!    p50/p99 over 200 spawns, event-driven (CN_PROC, needs root) against a
//!    2 s sweep (the peer's interval).
//! 2. The guard's own CPU use while idle for 60 s (`GUARD_BENCH_IDLE_SECS`;
//!    `GUARD_BENCH_IDLE_EVENTS=0` measures the sweeps alone).
//!
//! Run: `cargo bench -p kiosk-core --bench guard`. Figures go into
//! docs/benchmarks.md.

use exam_policy::load_policy_file;
use kiosk_core::guard::platform::NativePlatform;
use kiosk_core::guard::{Enforcement, Guard, GuardConfig, Scope};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SPAWNS: usize = 200;

fn main() {
    // `cargo bench` passes `--bench`; nothing else is expected.
    let policy = load_policy_file(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/byod.toml")).unwrap();
    let bin = tempfile::tempdir().unwrap();
    let anydesk = bin.path().join("AnyDesk");
    std::fs::copy("/bin/sleep", &anydesk).unwrap();

    for (label, exec_events, pace) in
        [("event-driven", true, Duration::ZERO), ("2 s sweep", false, Duration::from_millis(20))]
    {
        let mut config = GuardConfig::from_policy(&policy, Scope::Tree(std::process::id()), Enforcement::Enforce, vec![]);
        config.exec_events = exec_events;
        config.sweep_interval = Duration::from_secs(2);
        let mut guard = Guard::new(policy.clone(), config, NativePlatform::new().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let runner = std::thread::spawn(move || guard.run(&s, None, |_| {}));
        std::thread::sleep(Duration::from_millis(300));
        // Each child is waited for on its own thread so deaths are seen as they happen.
        let waiters: Vec<_> = (0..SPAWNS)
            .map(|_| {
                let started = Instant::now();
                let mut child = Command::new(&anydesk).arg("30").spawn().unwrap();
                let waiter = std::thread::spawn(move || {
                    child.wait().unwrap();
                    started.elapsed()
                });
                if pace.is_zero() {
                    // Event-driven: one at a time, so each latency is its own.
                    while !waiter.is_finished() {
                        std::thread::yield_now();
                    }
                } else {
                    std::thread::sleep(pace);
                }
                waiter
            })
            .collect();
        let mut latencies: Vec<Duration> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        stop.store(true, Ordering::Relaxed);
        let summary = runner.join().unwrap();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).min(latencies.len()) - 1];
        println!(
            "{label:>13}: spawn->death over {SPAWNS} spawns: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (event-driven: {})",
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3,
            summary.event_driven
        );
    }

    let idle_secs: u64 = std::env::var("GUARD_BENCH_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    // The production scope: the exam user's processes (here: nobody's, so
    // nothing is ended); every exec on the machine is still checked.
    let mut config = GuardConfig::from_policy(&policy, Scope::User(65534), Enforcement::Enforce, vec![]);
    config.exec_events = std::env::var("GUARD_BENCH_IDLE_EVENTS").map_or(true, |v| v != "0");
    let mut guard = Guard::new(policy, config, NativePlatform::new().unwrap());
    let before = cpu_seconds();
    let wall = Instant::now();
    let summary = guard.run(&AtomicBool::new(false), Some(Duration::from_secs(idle_secs)), |_| {});
    let used = cpu_seconds() - before;
    println!(
        "idle guard: {:.3} s CPU in {:.1} s = {:.3} % of one core ({} sweeps, {} exec notifications from the rest of the machine)",
        used,
        wall.elapsed().as_secs_f64(),
        100.0 * used / wall.elapsed().as_secs_f64(),
        summary.sweeps,
        summary.exec_events
    );
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}
