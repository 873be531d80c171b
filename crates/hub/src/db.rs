//! Storage: SQLite (embedded default) or PostgreSQL (shared by many hub
//! nodes), through one set of portable SQL statements.
//!
//! Every query uses bound parameters (`$1`, `$2`, ...); no value is ever
//! formatted into SQL text. Queries are checked at run time, so building
//! needs no database.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row as _};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The migrations, in order: (version, name, SQL).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (10, "console", include_str!("../migrations/0010_console.sql")),
    (20, "reports", include_str!("../migrations/0020_reports.sql")),
    (30, "identity", include_str!("../migrations/0030_identity.sql")),
    (50, "login_failures", include_str!("../migrations/0050_login_failures.sql")),
    (60, "answer_changes", include_str!("../migrations/0060_answer_changes.sql")),
    (70, "results", include_str!("../migrations/0070_results.sql")),
];
/// Separator between statements in a migration file.
const STATEMENT_SEPARATOR: &str = "\n--;\n";
/// Connections per hub node.
pub const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a locked SQLite database.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
/// How long to wait for a free pooled connection.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in the data directory.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL (expected sqlite://... or postgres://...)")]
    UnsupportedUrl,
    /// The database refused or failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The connection pool and its backend.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool.
    pub pool: AnyPool,
    /// The engine.
    pub backend: Backend,
    /// SQLite has one writer at a time: writers of this process queue here
    /// (without holding a pooled connection) instead of polling the busy lock.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction; on SQLite it also holds this process's writer slot.
/// Dereferences to the connection, so `&mut *tx` is an executor.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WriteTx")
    }
}

impl WriteTx {
    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The database file of a SQLite URL (`sqlite://PATH?...` or `sqlite:PATH`);
/// `None` for an in-memory database.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// Data at rest: the SQLite file is created 0600 before SQLite opens it
/// (SQLite itself would create it 0644 less the umask), and an existing one
/// and its `-wal`/`-shm`/`-journal` are set to 0600. SQLite gives the files it
/// creates beside the database the database file's mode, so these stay 0600.
fn private_sqlite_files(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        match exam_secure::FileWrite::PRIVATE.create_new().write(path, b"") {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The SQLite URL of the embedded database in `data_dir`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("hub.db").display())
}

impl Db {
    /// Connects and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        if let Some(path) = sqlite_path(url).filter(|_| backend == Backend::Sqlite) {
            private_sqlite_files(&path).map_err(sqlx::Error::Io)?;
        }
        let mut options = AnyPoolOptions::new().max_connections(MAX_CONNECTIONS).acquire_timeout(ACQUIRE_TIMEOUT);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    sqlx::query(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")).execute(&mut *conn).await?;
                    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                    // Data at rest: deleted and overwritten content (a secret
                    // wrapped in place) is zeroed, not left in free pages.
                    sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: readers never wait for the writer.
            sqlx::query("PRAGMA journal_mode = WAL").fetch_optional(&pool).await?;
        }
        let db = Self { pool, backend, write_lock: Arc::new(tokio::sync::Mutex::new(())) };
        db.migrate().await?;
        Ok(db)
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`), so concurrent writers wait for each
    /// other (busy timeout) instead of failing when a read turns into a write.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let slot = self.write_lock.clone().lock_owned().await;
                Ok(WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _slot: Some(slot) })
            }
            Backend::Postgres => Ok(WriteTx { tx: self.pool.begin().await?, _slot: None }),
        }
    }

    /// SQLite: moves the write-ahead log into the database file and empties
    /// it (so nothing older lives on in the log); nothing on PostgreSQL.
    pub async fn truncate_wal(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_optional(&self.pool).await?;
        }
        Ok(())
    }

    /// SQLite: writes a consistent copy of the database to the (empty or
    /// missing) file `out` (`VACUUM INTO`), safe while the hub runs.
    pub async fn vacuum_into(&self, out: &str) -> Result<(), sqlx::Error> {
        sqlx::query("VACUUM INTO $1").bind(out).execute(&self.pool).await?;
        Ok(())
    }

    fn blob_type(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "BLOB",
            Backend::Postgres => "BYTEA",
        }
    }

    /// Applies the migrations not yet applied, each in one transaction.
    pub async fn migrate(&self) -> Result<(), DbError> {
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)")
            .execute(&self.pool)
            .await?;
        for (version, name, sql) in MIGRATIONS {
            let mut tx = self.begin_write().await?;
            let applied = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
            if applied.is_some() {
                continue;
            }
            for statement in sql.split(STATEMENT_SEPARATOR) {
                let statement = statement.replace("{BLOB}", self.blob_type());
                let body: String = statement
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n");
                if body.trim().is_empty() {
                    continue;
                }
                sqlx::query(&body).execute(&mut *tx).await?;
            }
            let inserted = sqlx::query("INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING")
                .bind(*version)
                .bind(*name)
                .bind(crate::now_ms())
                .execute(&mut *tx)
                .await?;
            if inserted.rows_affected() == 1 {
                tx.commit().await?;
                tracing::info!(version, name, "applied database migration");
            }
        }
        Ok(())
    }
}

/// Reads an optional text column.
pub fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>, sqlx::Error> {
    row.try_get::<Option<String>, _>(column)
}

/// True when the error is a uniqueness (primary key) violation.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => {
            e.is_unique_violation() || e.message().contains("UNIQUE constraint failed") || e.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}
