//! Data at rest (issue 14 point 5), against a real `exam-hub` process: the
//! data directory is 0700; the database, its WAL and shared-memory files,
//! backups and reports are 0600; content keys and room-code secrets are
//! stored wrapped with a key kept outside the data directory, so neither the
//! database's bytes nor a backup contain them — and the start still releases
//! the right key. Secrets a hub of the previous version stored in plain text
//! are wrapped when the hub starts; a missing or foreign wrap key stops the
//! start and changes nothing.
#![allow(missing_docs)]

mod common;

use base64::Engine as _;
use common::*;
use exam_protocol::*;
use sqlx::Row as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every byte of the files given (those that exist).
fn bytes_of(files: &[PathBuf]) -> Vec<u8> {
    files.iter().filter(|f| f.exists()).flat_map(|f| std::fs::read(f).unwrap()).collect()
}

/// The forms a secret could be stored in: raw, hex, base64, base32.
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD.encode(secret).into_bytes(),
        exam_policy::totp::base32_encode(secret).into_bytes(),
    ]
}

fn assert_absent(what: &str, haystack: &[u8], secret: &[u8]) {
    for (i, form) in forms(secret).iter().enumerate() {
        assert!(!contains(haystack, form), "{what} contains the secret (form {i})");
    }
}

fn db_files(hub: &TestHub) -> Vec<PathBuf> {
    ["hub.db", "hub.db-wal", "hub.db-shm"].iter().map(|n| hub.data().join(n)).collect()
}

fn wrap_key_file(hub: &TestHub) -> PathBuf {
    exam_hub::config::wrap_key_path(&hub.data())
}

async fn db_of(hub: &TestHub) -> exam_hub::db::Db {
    let url = match &hub.database {
        Some(url) => url.clone(),
        None => exam_hub::config::Config::load(&hub.data()).unwrap().database_url(&hub.data()),
    };
    exam_hub::db::Db::connect(&url).await.unwrap()
}

/// Logs a student in on a new kiosk and takes the content key from `/start`.
async fn released_key(hub: &TestHub) -> Vec<u8> {
    let mut kiosk = hub.enrol(ROOM).await;
    kiosk.login_ok("1002", &hub.code("S1", "1002")).await;
    let resp = kiosk.post(paths::START, &serde_json::json!({})).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let start: StartResponse = resp.json().await.unwrap();
    base64::engine::general_purpose::STANDARD.decode(start.content_key).unwrap()
}

/// The room-code secret `exam-hub room-code` prints (base32), as bytes.
fn room_secret(hub: &TestHub, room: &str) -> Vec<u8> {
    let printed = hub.cli_ok(&["room-code", "--room", room]);
    exam_policy::totp::base32_decode(printed.trim()).unwrap()
}

async fn files_are_private_and_secrets_wrapped() {
    let Some(hub) = TestHub::start(Backend::Sqlite).await else { return };
    let secret = room_secret(&hub, ROOM);
    assert_eq!(released_key(&hub).await, hub.content_key, "the start releases the imported key");

    // Modes, while the hub runs (its WAL and shared memory exist).
    assert_eq!(mode(&hub.data()), 0o700, "data directory");
    for file in db_files(&hub) {
        assert!(file.exists(), "{} exists while the hub runs", file.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    for name in ["hub.key", "device-ca.key", "school-ca.key", "hub-signing.pk8", "hub-secret.hex", "hub.toml"] {
        assert_eq!(mode(&hub.data().join(name)), 0o600, "{name}");
    }
    // The wrap key: 0600, in a 0700 directory of its own, outside the data directory.
    let key = wrap_key_file(&hub);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(key.parent().unwrap()), 0o700);
    assert!(!key.starts_with(hub.data()), "{} is outside the data directory", key.display());

    // A backup: 0600, says what it holds and that the key is not in it.
    let backup = hub.path("backup.db");
    let out = hub.cli_ok(&["backup", "--out", backup.to_str().unwrap()]);
    assert_eq!(mode(&backup), 0o600);
    assert!(out.contains("wrap key") && out.contains("NOT in the backup") && out.contains(&key.display().to_string()), "{out}");

    // Reports: 0600.
    let reports = hub.path("pv");
    for line in hub.cli_ok(&["report", "proces-verbaal", "--sitting", "S1", "--out", reports.to_str().unwrap()]).lines() {
        assert_eq!(mode(Path::new(line.trim())), 0o600, "{line}");
    }
    let csv = hub.path("results.csv");
    hub.cli_ok(&["report", "results", "--sitting", "S1", "--out", csv.to_str().unwrap()]);
    assert_eq!(mode(&csv), 0o600);

    // Neither the database's bytes nor the backup hold the content key or the room-code secret.
    let mut files = db_files(&hub);
    files.push(backup.clone());
    let bytes = bytes_of(&files);
    assert!(bytes.len() > 300_000, "the database and backup were read");
    assert!(contains(&bytes, &hub.instrument[..64]), "control: the (encrypted) package itself is in there");
    assert_absent("database and backup", &bytes, &hub.content_key);
    assert_absent("database and backup", &bytes, &secret);

    // The console still shows the room's code: the wrapped secret opens.
    let db = db_of(&hub).await;
    let keys = exam_hub::pki::Keys::load(&hub.data()).unwrap();
    let code = exam_hub::console::room::room_code(&db.pool, &keys, ROOM, exam_hub::now_ms()).await.unwrap().expect("a room code");
    let now_s = (exam_hub::now_ms() / 1000) as u64;
    assert_eq!(code.code, exam_policy::totp::totp(&secret, exam_policy::TotpAlgorithm::Sha1, now_s, code.step_secs as u64, 6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_private_and_secrets_wrapped_sqlite() {
    files_are_private_and_secrets_wrapped().await;
}

/// Runs `exam-hub serve` expecting it to refuse to start; returns its stderr.
fn serve_refused(hub: &TestHub) -> String {
    let mut cmd = Command::new(exe());
    cmd.args(["serve", "--data"]).arg(hub.data()).args(["--listen", "127.0.0.1:0"]);
    if let Some(db) = &hub.database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(!status.success(), "serve must refuse: {}", String::from_utf8_lossy(&out.stdout));
            return String::from_utf8_lossy(&out.stderr).into_owned();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve started although it must refuse");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn stored(db: &exam_hub::db::Db) -> (String, String) {
    let key: String = sqlx::query("SELECT content_key FROM instruments WHERE instrument_id = 'inst-a'")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get("content_key")
        .unwrap();
    let secret: String = sqlx::query("SELECT secret_hex FROM console_room_codes WHERE room = $1")
        .bind(ROOM)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get("secret_hex")
        .unwrap();
    (key, secret)
}

/// A hub of the previous version stored the content key (base64) and the
/// room-code secret (hex) in plain text, with 0755/0644 modes: the next start
/// wraps both and tightens the modes. Without the key file, or with another
/// one, the hub refuses to start and the database is left as it was.
async fn plaintext_from_before_is_wrapped_at_start(backend: Backend) {
    let Some(mut hub) = TestHub::start(backend).await else { return };
    let secret = room_secret(&hub, ROOM);
    let db = db_of(&hub).await;
    // What the previous version wrote.
    sqlx::query("UPDATE instruments SET content_key = $1 WHERE instrument_id = 'inst-a'")
        .bind(base64::engine::general_purpose::STANDARD.encode(&hub.content_key))
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE console_room_codes SET secret_hex = $1 WHERE room = $2").bind(hex::encode(&secret)).bind(ROOM).execute(&db.pool).await.unwrap();
    db.pool.close().await;
    std::fs::set_permissions(hub.data(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if backend == Backend::Sqlite {
        std::fs::set_permissions(hub.data().join("hub.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // ...and had no wrap key: the start creates one (nothing is wrapped yet).
    let key_dir = wrap_key_file(&hub).parent().unwrap().to_owned();
    std::fs::remove_dir_all(&key_dir).unwrap();
    if backend == Backend::Sqlite {
        // A backup taken before the first start of this version (the usual
        // upgrade step) holds no plain-text secret either: it wraps first.
        let backup = hub.path("backup-before-start.db");
        hub.cli_ok(&["backup", "--out", backup.to_str().unwrap()]);
        let bytes = std::fs::read(&backup).unwrap();
        assert_absent("backup before the first start", &bytes, &hub.content_key);
        assert_absent("backup before the first start", &bytes, &secret);
    }

    hub.restart();
    assert_eq!(mode(&wrap_key_file(&hub)), 0o600, "created at start");
    assert_eq!(mode(&key_dir), 0o700);
    let db = db_of(&hub).await;
    let (key, room) = stored(&db).await;
    for value in [&key, &room] {
        assert!(value.starts_with(exam_hub::pki::WRAPPED_PREFIX), "wrapped at start: {value}");
    }
    assert_absent("content_key column", key.as_bytes(), &hub.content_key);
    assert_absent("room-code column", room.as_bytes(), &secret);
    assert_eq!(mode(&hub.data()), 0o700);
    if backend == Backend::Sqlite {
        for file in db_files(&hub) {
            if file.exists() {
                assert_eq!(mode(&file), 0o600, "{}", file.display());
            }
        }
        let bytes = bytes_of(&db_files(&hub));
        assert_absent("database files after the start", &bytes, &hub.content_key);
        assert_absent("database files after the start", &bytes, &secret);
    }
    assert_eq!(released_key(&hub).await, hub.content_key, "the start releases the right key");
    db.pool.close().await;

    // Without its key file the hub refuses to start, and says what to do.
    let key_file = wrap_key_file(&hub);
    let aside = hub.path("wrap-key-aside");
    std::fs::rename(&key_file, &aside).unwrap();
    let stderr = serve_refused(&hub);
    assert!(stderr.contains("restore the key file"), "{stderr}");
    assert!(!key_file.exists(), "no new key replaces the lost one");
    // With another hub's key: refused too.
    exam_hub::pki::WrapKey::create(&key_file).unwrap();
    let stderr = serve_refused(&hub);
    assert!(stderr.contains("does not open"), "{stderr}");
    let db = db_of(&hub).await;
    assert_eq!(stored(&db).await, (key, room), "nothing was changed");
    db.pool.close().await;
    // The right key back (restored with a loose mode): the hub makes it
    // 0600, starts and releases the key.
    std::fs::rename(&aside, &key_file).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    hub.restart();
    assert_eq!(mode(&key_file), 0o600, "a restored key is made private");
    assert_eq!(released_key(&hub).await, hub.content_key);
}
on_both_backends!(plaintext_from_before_is_wrapped_at_start);
