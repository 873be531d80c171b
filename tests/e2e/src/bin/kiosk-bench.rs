//! `cargo xtask bench kiosk`: start to first painted screen, and memory
//! during an exam, of the release `exam-kiosk` under Xvfb, side by side with
//! Chromium in `--kiosk` mode showing the same UI.
//!
//! **First paint**, exam-kiosk: from just before the process is spawned to
//! the `kiosk.ui_ready` record in its journal. The UI sends `ui_ready` two
//! animation frames after it rendered its first screen (the login form), so
//! the time covers the startup checklist (policy, device key, journal,
//! lockdown, guard, environment, clock and location with the hub's signed
//! echo, hub health), the window, WebKit, and painting the first screen.
//! Journal wall-clock stamps and the spawn time come from the same clock.
//!
//! **First paint**, Chromium: from just before `chromium --kiosk` is spawned
//! to a request the page makes two animation frames after the UI rendered
//! its first screen (the same `ui/`, served over loopback HTTP by this
//! program, in the preview's `login` state with its scripted shell; a probe
//! script is added to the page for the request).
//!
//! **Memory**: the distinct physical pages resident in the process and all
//! its descendants (`/proc/PID/pagemap`, as root: each page once, however
//! many processes map it), and the sums of PSS and RSS
//! (`/proc/PID/smaps_rollup`) over the same processes (WebKit's web and network processes;
//! Chromium's zygotes, renderer, GPU and utility processes), 3 s after the
//! exam screen is shown: exam-kiosk logged in through WebDriver into a real
//! exam with a real hub, Chromium showing the preview's `exam` state. PSS
//! divides shared pages among all processes mapping them, also ones outside
//! the tree; RSS counts them in each. `EXAM_BENCH_MEMORY_DETAIL=1` prints
//! where the pages are, by process and mapping.
//!
//! exam-kiosk is measured as shipped (WebKitGTK's DMA-BUF renderer off, see
//! `prefer_lean_webkit` in src-tauri) and with that renderer back on
//! (`WEBKIT_DISABLE_DMABUF_RENDERER=0`), to show what the default saves.
//!
//! `--runs N` (default 5). Set `EXAM_E2E_PROFILE=release` (xtask does).

use exam_e2e::steps;
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, workspace, Display, Driver, Guarded, Stack};
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

const WAIT: Duration = Duration::from_secs(60);
/// Settle time before memory is read.
const SETTLE: Duration = Duration::from_secs(3);

/// The kiosk configurations measured: a label and the environment added.
const KIOSK_CONFIGS: [(&str, &[(&str, &str)]); 2] = [
    ("exam-kiosk (as shipped)", &[]),
    ("exam-kiosk, DMA-BUF renderer on", &[("WEBKIT_DISABLE_DMABUF_RENDERER", "0")]),
];

/// Added to the preview page: tells the server when the first screen is painted.
const PROBE: &str = r#"(function () {
  const screenShown = () => document.querySelector('main > section');
  const report = () => requestAnimationFrame(() => requestAnimationFrame(() => fetch('/painted', { method: 'POST' })));
  const observer = new MutationObserver(() => { if (screenShown()) { observer.disconnect(); report(); } });
  observer.observe(document.documentElement, { childList: true, subtree: true });
})();
"#;

fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .map(|n| n.parse::<usize>().expect("--runs N"))
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    if let Err(e) = runtime.block_on(bench(runs)) {
        eprintln!("kiosk-bench: {e}");
        std::process::exit(1);
    }
}

async fn bench(runs: usize) -> Result<(), String> {
    let chromium = which("chromium").ok_or("chromium is not installed (apt-get install chromium)")?;
    let display = Display::start()?;
    let ui = serve_ui(&workspace().join("ui"))?;

    let mut kiosk_paint = vec![Vec::new(); KIOSK_CONFIGS.len()];
    let mut chromium_paint = Vec::new();
    for run in 0..runs {
        for (config, (label, env)) in KIOSK_CONFIGS.iter().enumerate() {
            let ms = kiosk_first_paint(&display, env).await?;
            eprintln!("run {}: {label} {ms:.0} ms", run + 1);
            kiosk_paint[config].push(ms);
        }
        chromium_paint.push(chromium_first_paint(&display, &chromium, &ui, "login")?.0);
        eprintln!("run {}: chromium {:.0} ms", run + 1, chromium_paint[run]);
    }
    let mut kiosk_memory = Vec::new();
    for (_, env) in KIOSK_CONFIGS {
        kiosk_memory.push(kiosk_exam_memory(&display, env).await?);
    }
    let (_, chromium_memory) = chromium_first_paint(&display, &chromium, &ui, "exam")?;

    println!("first paint, ms over {runs} runs (median / min / max):");
    for ((label, _), paint) in KIOSK_CONFIGS.iter().zip(&mut kiosk_paint) {
        println!("  {label:<34} {}", summary(paint));
    }
    println!("  {:<34} {}", "chromium --kiosk", summary(&mut chromium_paint));
    println!("memory during the exam (process tree):");
    for ((label, _), memory) in KIOSK_CONFIGS.iter().zip(&kiosk_memory) {
        println!("  {label:<34} {memory}");
    }
    println!("  {:<34} {chromium_memory}", "chromium --kiosk");
    Ok(())
}

fn summary(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    format!("{:.0} / {:.0} / {:.0}", ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.exists())
}

fn unix_us(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

/// A process for the guard to watch (nothing runs under it), so the
/// benchmark measures an enforcing kiosk without touching the session.
fn quiet_scope() -> Result<(Guarded, String), String> {
    let child = Command::new("sleep").arg("3600").spawn().map_err(|e| e.to_string())?;
    let scope = format!("tree:{}", child.id());
    Ok((Guarded(child), scope))
}

/// Spawn → `kiosk.ui_ready` in the journal, ms.
async fn kiosk_first_paint(display: &Display, extra_env: &[(&str, &str)]) -> Result<f64, String> {
    let tmp = tempfile::tempdir_in(workspace().join("target")).map_err(|e| e.to_string())?;
    let stack = Stack::start(tmp.path())?;
    let (_quiet, scope) = quiet_scope()?;
    let mut cmd = Command::new(bin("exam-kiosk"));
    cmd.env("DISPLAY", &display.name).env_remove("WAYLAND_DISPLAY").stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in stack.kiosk_env(false, Some(scope)) {
        cmd.env(k, v);
    }
    cmd.envs(extra_env.iter().copied());
    let spawned = SystemTime::now();
    let _kiosk = Guarded(cmd.spawn().map_err(|e| e.to_string())?);
    let journal = stack.kiosk_data.join("journal");
    let deadline = Instant::now() + WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The journal is flushed record by record (fdatasync), so reading it is safe while it grows.
        if let Ok(records) = steps::journal_records(&journal) {
            if let Some(ready) = records.iter().find(|r| r["kind"] == "kiosk.ui_ready") {
                let at = ready["wall_time_us"].as_i64().ok_or("ui_ready without wall_time_us")?;
                return Ok((at - unix_us(spawned)) as f64 / 1000.0);
            }
        }
        if Instant::now() > deadline {
            return Err("exam-kiosk did not report its first paint".into());
        }
    }
}

/// Logs in through WebDriver into a real exam, then measures the kiosk's process tree.
async fn kiosk_exam_memory(display: &Display, extra_env: &[(&str, &str)]) -> Result<Memory, String> {
    let tmp = tempfile::tempdir_in(workspace().join("target")).map_err(|e| e.to_string())?;
    let stack = Stack::start(tmp.path())?;
    let (_quiet, scope) = quiet_scope()?;
    let mut env = stack.kiosk_env(false, Some(scope));
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let driver = Driver::start(display, &env)?;
    let session = Session::new(&driver, bin("exam-kiosk").to_str().ok_or("path")?).await?;
    let result = async {
        steps::into_exam(&session, &stack.students[1]).await?;
        tokio::time::sleep(SETTLE).await;
        let pid = kiosk_pid(&stack)?;
        Ok(Memory::of_tree(pid))
    }
    .await;
    session.close().await;
    result
}

/// The exam-kiosk process running on this stack's data directory.
fn kiosk_pid(stack: &Stack) -> Result<u32, String> {
    let marker = format!("EXAM_KIOSK_DATA={}", stack.kiosk_data.display());
    let exe = bin("exam-kiosk");
    for entry in std::fs::read_dir("/proc").map_err(|e| e.to_string())?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let is_kiosk = std::fs::read_link(entry.path().join("exe")).is_ok_and(|e| e == exe);
        let ours = std::fs::read(entry.path().join("environ")).is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == marker.as_bytes()));
        if is_kiosk && ours {
            return Ok(pid);
        }
    }
    Err("no exam-kiosk process".into())
}

/// Chromium `--kiosk` on the preview page in `state`: (first paint ms, memory).
fn chromium_first_paint(display: &Display, chromium: &Path, ui: &UiServer, state: &str) -> Result<(f64, Memory), String> {
    let profile = tempfile::tempdir_in(workspace().join("target")).map_err(|e| e.to_string())?;
    let url = format!("http://127.0.0.1:{}/dev/preview.html?state={state}", ui.port);
    while ui.painted.try_recv().is_ok() {}
    let started = Instant::now();
    let child = Command::new(chromium)
        .arg("--kiosk")
        // As root Chromium refuses to start with its sandbox; the benchmark runs as root in CI.
        .args(if is_root() { &["--no-sandbox"][..] } else { &[][..] })
        .args(["--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--password-store=basic"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .env("DISPLAY", &display.name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("chromium: {e}"))?;
    let chromium = Guarded(child);
    let painted = ui.painted.recv_timeout(WAIT).map_err(|_| "chromium did not report its first paint".to_string())?;
    let ms = painted.duration_since(started).as_secs_f64() * 1000.0;
    std::thread::sleep(SETTLE);
    let memory = Memory::of_tree(chromium.0.id());
    Ok((ms, memory))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Memory of a process tree.
struct Memory {
    processes: usize,
    rss_kib: u64,
    pss_kib: u64,
    /// Physical memory the tree holds, each page counted once however many
    /// of its processes map it; `None` when page frames cannot be read (not root).
    resident_once_kib: Option<u64>,
    /// PSS per process name, largest first.
    by_name: Vec<(String, u64)>,
}

impl Memory {
    fn of_tree(root: u32) -> Self {
        let tree = descendants(root);
        let field = |path: String, name: &str| -> u64 {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|text| {
                    text.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
                })
                .unwrap_or(0)
        };
        let mut by_name: Vec<(String, u64)> = Vec::new();
        for pid in &tree {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
            let pss = field(format!("/proc/{pid}/smaps_rollup"), "Pss:");
            match by_name.iter_mut().find(|(n, _)| *n == name) {
                Some((_, sum)) => *sum += pss,
                None => by_name.push((name, pss)),
            }
        }
        by_name.sort_by_key(|(_, pss)| std::cmp::Reverse(*pss));
        Memory {
            processes: tree.len(),
            rss_kib: tree.iter().map(|pid| field(format!("/proc/{pid}/smaps_rollup"), "Rss:")).sum(),
            pss_kib: tree.iter().map(|pid| field(format!("/proc/{pid}/smaps_rollup"), "Pss:")).sum(),
            resident_once_kib: resident_once_kib(&tree),
            by_name,
        }
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PSS {:.0} MB, ", self.pss_kib as f64 / 1024.0)?;
        if let Some(once) = self.resident_once_kib {
            write!(f, "resident (each page once) {:.0} MB, ", once as f64 / 1024.0)?;
        }
        write!(f, "RSS {:.0} MB, {} processes (PSS:", self.rss_kib as f64 / 1024.0, self.processes)?;
        for (name, pss) in &self.by_name {
            write!(f, " {name} {:.0} MB", *pss as f64 / 1024.0)?;
        }
        write!(f, ")")
    }
}

/// The distinct physical pages resident in any process of `tree`, in KiB:
/// the memory the tree holds, shared libraries counted once, not once per
/// process (RSS) nor shared out with processes outside the tree (PSS).
/// Reads each mapping that has resident pages (`smaps`) in `pagemap`; the
/// page frame numbers there are zero unless we are root, then `None`.
fn resident_once_kib(tree: &[u32]) -> Option<u64> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    const PAGE: u64 = 4096; // pagemap is indexed by the base page size (4 KiB on x86-64)
    const PRESENT: u64 = 1 << 63;
    const PFN_MASK: u64 = (1 << 55) - 1;
    // Each frame with what maps it first (process and file, or anonymous).
    let mut frames = std::collections::HashMap::new();
    let mut present_without_frame = false;
    for pid in tree {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
        let mut what = String::new();
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else { continue };
        let Ok(mut pagemap) = std::fs::File::open(format!("/proc/{pid}/pagemap")) else { continue };
        let mut range: Option<(u64, u64)> = None;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
                range = u64::from_str_radix(start, 16).ok().zip(u64::from_str_radix(end, 16).ok());
                let file = line.split_whitespace().nth(5).unwrap_or("[anonymous]");
                what = format!("{comm} {}", file.rsplit('/').next().unwrap_or(file));
                continue;
            }
            let Some(rss) = line.strip_prefix("Rss:") else { continue };
            let Some((start, end)) = range.take() else { continue };
            if rss.trim().trim_end_matches("kB").trim() == "0" {
                continue;
            }
            let mut entries = vec![0u8; ((end - start) / PAGE * 8) as usize];
            if pagemap.seek(SeekFrom::Start(start / PAGE * 8)).is_err() || pagemap.read_exact(&mut entries).is_err() {
                continue;
            }
            for entry in entries.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))) {
                if entry & PRESENT != 0 {
                    match entry & PFN_MASK {
                        0 => present_without_frame = true,
                        frame => {
                            frames.entry(frame).or_insert_with(|| what.clone());
                        }
                    }
                }
            }
        }
    }
    if std::env::var_os("EXAM_BENCH_MEMORY_DETAIL").is_some() {
        let mut by_what = std::collections::HashMap::<&str, u64>::new();
        for what in frames.values() {
            *by_what.entry(what).or_default() += PAGE / 1024;
        }
        let mut by_what: Vec<_> = by_what.into_iter().collect();
        by_what.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
        for (what, kib) in by_what.iter().take(40) {
            eprintln!("    {:>7.1} MB  {what}", *kib as f64 / 1024.0);
        }
    }
    (!present_without_frame && !frames.is_empty()).then(|| frames.len() as u64 * PAGE / 1024)
}

/// `root` and every process below it.
fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // The command name may hold spaces and parentheses: the ppid follows the last ')'.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
            parents.push((pid, ppid));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        i += 1;
    }
    tree
}

/// `ui/` over loopback HTTP, with the probe added to the preview page.
struct UiServer {
    port: u16,
    painted: mpsc::Receiver<Instant>,
}

fn serve_ui(root: &Path) -> Result<UiServer, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (tx, painted) = mpsc::channel();
    let root = root.canonicalize().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = answer(stream, &root, &tx);
            });
        }
    });
    Ok(UiServer { port, painted })
}

fn answer(mut stream: std::net::TcpStream, root: &Path, painted: &mpsc::Sender<Instant>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    if path == "/painted" {
        let _ = painted.send(Instant::now());
        return stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    }
    let (status, body, mime) = if path == "/bench-probe.js" {
        ("200 OK", PROBE.as_bytes().to_vec(), "text/javascript")
    } else {
        // Only files under ui/, never outside it.
        match root.join(path.trim_start_matches('/')).canonicalize() {
            Ok(file) if file.starts_with(root) && file.is_file() => {
                let mut body = std::fs::read(&file)?;
                if file.ends_with("dev/preview.html") {
                    let text = String::from_utf8_lossy(&body).replacen("</head>", "<script src=\"/bench-probe.js\"></script>\n</head>", 1);
                    body = text.into_bytes();
                }
                ("200 OK", body, mime_of(&file))
            }
            _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
        }
    };
    write!(stream, "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    stream.write_all(&body)
}

fn mime_of(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}
