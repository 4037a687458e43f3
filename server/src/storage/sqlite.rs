//! SQLite backend (embedded default): one writer connection behind a mutex (SQLite has one
//! writer anyway, and this keeps the change log's sequence in commit order) and a small pool
//! of reader connections, all used from tokio's blocking threads.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a commit is on disk (the WAL is
//! synced) before `push` returns and the answer is sent. `NORMAL` would be faster but may
//! lose the last commits on power loss, after the device was told they were stored.

use super::{
    EnrolRefusal, PullPage, StatusInfo, Storage, StorageError, StoreFuture, TitipKeys,
    TitipRefusal, closure,
};
use crate::model::{
    Device, NewDevice, Place, RecordInfo, SessionInfo, Settled, User, level_str, parse_level,
    parse_role, role_str,
};
use crate::sync::{
    AuthorInfo, Authors, Login, PushContext, PushResult, advance_acked, login_hlc, other_authors,
    plan, referenced_ids,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, Scope, UserId};

/// The numbered migrations, applied in order, each in one transaction. Never edit one that
/// shipped: add the next.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_device_users.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_access_rules.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_quarantine.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_read_model.sql"),
    ),
    (6, include_str!("../../migrations/sqlite/0006_titip.sql")),
    (
        7,
        include_str!("../../migrations/sqlite/0007_dashboard.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_satusehat.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_duplicates.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_vaccine_kfa.sql"),
    ),
    (
        12,
        include_str!("../../migrations/sqlite/0012_report_questions.sql"),
    ),
];

const MAX_IDLE_READERS: usize = 8;

struct Inner {
    path: String,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    follower: Follower,
    /// Pushes waiting for the writer ([`write_group`]).
    queue: Mutex<Vec<Queued>>,
    /// Groups committed (the checkpoint thread looks whether it moved).
    commits: std::sync::atomic::AtomicU64,
}

/// Where the read model's follower stands: pushes committed and pushes merged, counted.
/// A read of the read model waits until every push committed before it began is merged, so
/// whoever was answered a push reads it (the wait is at most one push's merge).
#[derive(Default)]
struct Follower {
    /// (pushes committed, pushes merged or given up).
    counts: Mutex<(u64, u64)>,
    merged: std::sync::Condvar,
}

impl Follower {
    fn committed(&self) -> u64 {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.0 += 1;
        c.0
    }

    fn merged(&self, n: u64) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.1 = c.1.max(n);
        drop(c);
        self.merged.notify_all();
    }

    fn wait(&self) {
        let c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let target = c.0;
        let _c = self
            .merged
            .wait_while(c, |c| c.1 < target)
            .unwrap_or_else(|p| p.into_inner());
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    /// Pushes skip the read model (benchmarks only: [`super::without_read_model`]).
    without_read_model: bool,
    analyze: Arc<super::AnalyzeDue>,
    sizes: Arc<super::ScopeSizes>,
    /// Device sync notes not yet written (`crate::readmodel::notes`).
    pub(crate) notes: Arc<crate::readmodel::notes::SyncNotes>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating when missing) the database file. Blocking. The file holds health data
    /// and password hashes: it is created owner-only (0600, and SQLite gives its `-wal` and
    /// `-shm` the database file's mode), in a directory created 0700 when missing, whatever
    /// the umask; an existing file (and its `-wal`, `-shm`) is narrowed to 0600.
    pub fn open(path: &str) -> Result<Self, StorageError> {
        private_file(path)?;
        let writer = Connection::open(path)?;
        configure(&writer)?;
        // The writer keeps more of the read tables' B-trees in memory (64 MiB; the default is
        // 2 MiB): a push and a rebuild touch pages all over them.
        writer.pragma_update(None, "cache_size", -65_536)?;
        // The push's statements (two per multi-row insert) besides the read model's.
        writer.set_prepared_statement_cache_capacity(64);
        // The WAL is checkpointed by a thread of its own ([`checkpointer`]), not by the
        // commit that happens to pass the threshold: the writer (every push) waits for no
        // copy of pages into the database file.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let inner = Arc::new(Inner {
            path: path.to_string(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            follower: Follower::default(),
            queue: Mutex::new(Vec::new()),
            commits: Default::default(),
        });
        if let Err(e) = checkpointer(path, Arc::downgrade(&inner)) {
            // The commits checkpoint as SQLite does by default.
            tracing::warn!(error = %e, "SQLite: no checkpoint thread; commits checkpoint the WAL");
            inner
                .writer
                .lock()
                .map_err(|_| StorageError::Worker("writer lock poisoned".into()))?
                .pragma_update(None, "wal_autocheckpoint", 1000)?;
        }
        Ok(Self {
            inner,
            without_read_model: super::without_read_model(),
            analyze: Arc::default(),
            sizes: Arc::default(),
            notes: Arc::default(),
        })
    }

    pub(crate) fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = inner
                    .writer
                    .lock()
                    .map_err(|_| StorageError::Worker("writer lock poisoned".into()))?;
                f(&mut conn)
            })
            .await
            .map_err(|e| StorageError::Worker(e.to_string()))?
        })
    }

    /// A read of the read model: waits for the follower to merge every push committed
    /// before it ([`Follower`]), then reads.
    pub(crate) fn read_merged<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || inner.follower.wait())
                .await
                .map_err(|e| StorageError::Worker(e.to_string()))?;
            self.read(f).await
        })
    }

    pub(crate) fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let idle = inner
                    .readers
                    .lock()
                    .map_err(|_| StorageError::Worker("reader pool poisoned".into()))?
                    .pop();
                let conn = match idle {
                    Some(c) => c,
                    None => {
                        let c = Connection::open(&inner.path)?;
                        configure(&c)?;
                        c
                    }
                };
                let out = f(&conn);
                if let Ok(mut pool) = inner.readers.lock()
                    && pool.len() < MAX_IDLE_READERS
                {
                    pool.push(conn);
                }
                out
            })
            .await
            .map_err(|e| StorageError::Worker(e.to_string()))?
        })
    }
}

/// How often the checkpoint thread looks for new commits.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The WAL's bound, in frames (pages; 16,384 × 4 KiB = 64 MiB): past it, the checkpoint
/// thread no longer only copies what it can (`PASSIVE`) but waits for the readers that pin
/// old frames and truncates the WAL ([`checkpoint`]).
const WAL_LIMIT_FRAMES: i64 = 16_384;

/// How long a truncating checkpoint waits for readers (and the writer) before it gives up
/// until the next look. Below the writer's busy timeout (10 s): a push that waits for it is
/// delayed, never refused.
const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What one [`checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Checkpointed {
    /// Frames in the WAL after the checkpoint (0 once truncated).
    frames: i64,
    /// Frames copied into the database file.
    copied: i64,
    /// Whether the WAL had passed `limit` and a truncating checkpoint ran to the end.
    truncated: bool,
}

/// One round of the checkpoint thread on its own connection: a `PASSIVE` checkpoint (never
/// waits: copies the frames no reader still needs); when the WAL then holds more than
/// `limit` frames (readers kept it from being reset, or a burst of commits), a `TRUNCATE`
/// checkpoint, which waits (the connection's busy timeout) for the writer and for readers of
/// older snapshots, copies every frame and empties the WAL file. Should that wait time out,
/// the next round tries again.
fn checkpoint(conn: &Connection, limit: i64) -> Result<Checkpointed, rusqlite::Error> {
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
    };
    let (_, frames, copied) = run("PASSIVE")?;
    if frames <= limit {
        return Ok(Checkpointed {
            frames,
            copied,
            truncated: false,
        });
    }
    let (busy, frames, copied) = run("TRUNCATE")?;
    Ok(Checkpointed {
        frames,
        copied,
        truncated: busy == 0,
    })
}

/// Starts the thread that checkpoints the WAL ([`checkpoint`]: `PASSIVE`, so it does not
/// block the writer nor a reader, until the WAL passes [`WAL_LIMIT_FRAMES`]) on a connection of
/// its own, every [`CHECKPOINT_EVERY`] when something was committed since the last look, until
/// the store is dropped. Durability is the commits' (`synchronous = FULL` syncs the WAL at
/// each); a checkpoint only copies committed pages into the file.
fn checkpointer(path: &str, inner: std::sync::Weak<Inner>) -> Result<(), StorageError> {
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Err(StorageError::Invalid("an in-memory database".into()));
    }
    let conn = Connection::open(path)?;
    configure(&conn)?;
    conn.busy_timeout(CHECKPOINT_WAIT)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut seen = 0u64;
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                let Some(inner) = inner.upgrade() else {
                    return;
                };
                let commits = inner.commits.load(std::sync::atomic::Ordering::Relaxed);
                drop(inner);
                if commits == seen {
                    continue;
                }
                seen = commits;
                match checkpoint(&conn, WAL_LIMIT_FRAMES) {
                    Ok(c) if c.frames > WAL_LIMIT_FRAMES => {
                        // Tried again at the next look, new commits or not.
                        seen = seen.wrapping_sub(1);
                        tracing::warn!(
                            frames = c.frames,
                            "SQLite: the WAL is past its bound and readers kept it from being truncated"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "SQLite: checkpoint failed"),
                }
            }
        })
        .map_err(|e| StorageError::Io(e.to_string()))?;
    Ok(())
}

/// Creates the database file (and its missing directories) owner-only before SQLite opens
/// it, and narrows the modes of an existing file and its `-wal` and `-shm`. SQLite's
/// in-memory names (`:memory:`, `file:` URIs) are left alone.
fn private_file(path: &str) -> Result<(), StorageError> {
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let io = |what: &str, e: std::io::Error| StorageError::Io(format!("{what} {path}: {e}"));
    let file = std::path::Path::new(path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io("cannot create the directory of", e))?;
            // The mode given is masked by the umask: set it exactly.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io("cannot restrict the directory of", e))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(file)
            .map_err(|e| io("cannot create", e))?;
        for suffix in ["", "-wal", "-shm"] {
            let f = format!("{path}{suffix}");
            match std::fs::metadata(&f) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| io("cannot restrict", e))?;
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io("cannot create the directory of", e))?;
        }
    }
    Ok(())
}

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("{what} {value:?}"))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

const USER_COLS: &str =
    "id, username, display_name, role, scope_level, scope_place, secret_hash, disabled_at";

fn user_from_row(row: &Row<'_>, at: usize) -> Result<User, StorageError> {
    let id: String = row.get(at)?;
    let role: String = row.get(at + 3)?;
    let level: String = row.get(at + 4)?;
    Ok(User {
        id: id.parse().map_err(|_| corrupt("user id", &id))?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        role: parse_role(&role).ok_or_else(|| corrupt("role", &role))?,
        scope: Scope {
            level: parse_level(&level).ok_or_else(|| corrupt("level", &level))?,
            place: row.get(at + 5)?,
        },
        secret_hash: row.get(at + 6)?,
        disabled: row.get::<_, Option<i64>>(at + 7)?.is_some(),
    })
}

const DEVICE_COLS: &str = "id, name, user_id, enrolled_at, revoked_at, last_seen_at, last_sync_at, app_version, acked_seq, last_relay_at";

fn device_from_row(row: &Row<'_>, at: usize) -> Result<Device, StorageError> {
    let id: String = row.get(at)?;
    let user: String = row.get(at + 2)?;
    Ok(Device {
        id: id.parse().map_err(|_| corrupt("device id", &id))?,
        name: row.get(at + 1)?,
        user_id: user.parse().map_err(|_| corrupt("user id", &user))?,
        enrolled_at: to_u64(row.get(at + 3)?),
        revoked_at: row.get::<_, Option<i64>>(at + 4)?.map(to_u64),
        last_seen_at: row.get::<_, Option<i64>>(at + 5)?.map(to_u64),
        last_sync_at: row.get::<_, Option<i64>>(at + 6)?.map(to_u64),
        app_version: row.get(at + 7)?,
        acked_seq: to_u64(row.get(at + 8)?),
        last_relay_at: row.get::<_, Option<i64>>(at + 9)?.map(to_u64),
    })
}

fn place_from_row(row: &Row<'_>) -> Result<Place, StorageError> {
    let level: String = row.get(2)?;
    Ok(Place {
        code: row.get(0)?,
        name: row.get(1)?,
        level: parse_level(&level).ok_or_else(|| corrupt("level", &level))?,
        parent: row.get(3)?,
    })
}

fn kind_from_str(s: &str) -> Result<EntityKind, StorageError> {
    EntityKind::ALL
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| corrupt("kind", s))
}

fn collect<T>(
    rows: impl Iterator<Item = Result<Result<T, StorageError>, rusqlite::Error>>,
) -> Result<Vec<T>, StorageError> {
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}

fn migrate(conn: &mut Connection) -> Result<usize, StorageError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let mut ran = 0;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction()?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_none() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, to_i64(crate::model::now_ms())],
            )?;
            ran += 1;
        }
        tx.commit()?;
    }
    Ok(ran)
}

/// The posyandu at or below a place.
const POSYANDU_UNDER: &str = "SELECT p.code FROM place_tree t JOIN places p ON p.code = t.code
     WHERE t.ancestor = ?1 AND p.level = 'posyandu'";

/// The places a user of a scope needs: the scope's place and its descendants, and its
/// ancestors, through the hierarchy closure (each place once).
const PLACES_FOR_SCOPE: &str = "SELECT code, name, level, parent FROM places
     WHERE code IN (SELECT code FROM place_tree WHERE ancestor = ?1)
        OR code IN (SELECT ancestor FROM place_tree WHERE code = ?1)
     ORDER BY code";

/// The other authors of a batch who have logged in on the device, with their role and
/// scope (each scope's posyandu looked up once).
fn load_authors(tx: &Connection, device: &str, ids: &[UserId]) -> Result<Authors, StorageError> {
    let mut out = Authors::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut scopes: HashMap<String, Arc<HashSet<String>>> = HashMap::new();
    let mut q = tx.prepare_cached(
        "SELECT u.role, u.scope_place, u.disabled_at FROM device_users du
         JOIN users u ON u.id = du.user_id WHERE du.device_id = ?1 AND du.user_id = ?2",
    )?;
    let mut under = tx.prepare_cached(POSYANDU_UNDER)?;
    for id in ids {
        let row: Option<(String, String, Option<i64>)> = q
            .query_row(params![device, id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((role, place, disabled_at)) = row else {
            continue;
        };
        if disabled_at.is_some() {
            out.insert(*id, AuthorInfo::Disabled);
            continue;
        }
        let role = parse_role(&role).ok_or_else(|| corrupt("role", &role))?;
        let scope_posyandu = match scopes.get(&place) {
            Some(s) => s.clone(),
            None => {
                let mut set = HashSet::new();
                for code in under.query_map([&place], |r| r.get::<_, String>(0))? {
                    set.insert(code?);
                }
                let set = Arc::new(set);
                scopes.insert(place, set.clone());
                set
            }
        };
        out.insert(
            *id,
            AuthorInfo::Active {
                role,
                scope_posyandu,
            },
        );
    }
    Ok(out)
}

/// The logins of a device (for the windows of its other authors).
fn load_logins(tx: &Connection, device: &str) -> Result<Vec<Login>, StorageError> {
    let mut q = tx.prepare_cached(
        "SELECT n, user_id, hlc FROM device_logins WHERE device_id = ?1 ORDER BY n",
    )?;
    let rows = q.query_map([device], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (n, user, hlc) = row?;
        out.push(Login {
            user: user.parse().map_err(|_| corrupt("user id", &user))?,
            hlc: hlc.parse().map_err(|_| corrupt("hlc", &hlc))?,
            order: n,
        });
    }
    Ok(out)
}

/// One push's part of a group's transaction ([`write_group`]): settles and logs the batch
/// inside the open transaction `tx` (under a savepoint the caller holds). Returns the answer
/// and the changes logged (`(sseq, change)`, in `sseq` order) for the read model's follower
/// ([`follow`]). Nothing is committed here.
fn push_in(
    tx: &Connection,
    ctx: &PushContext,
    batch: Vec<crate::sync::Prepared>,
) -> Result<Pushed, StorageError> {
    let device = ctx.device.to_string();
    let mut settled = HashMap::new();
    let mut records = HashMap::new();
    {
        // What is settled of the batch's sequence numbers: one range read (a batch is the
        // next numbers of the outbox), not one lookup per change.
        let seqs: HashSet<u64> = batch
            .iter()
            .filter(|p| p.change.device == ctx.device)
            .map(|p| p.change.seq)
            .collect();
        let ranges: Vec<(u64, u64)> = match (seqs.iter().min(), seqs.iter().max()) {
            (Some(&lo), Some(&hi)) if hi - lo <= 2 * seqs.len() as u64 + 64 => vec![(lo, hi)],
            // Scattered numbers: each alone (never a scan of the device's whole history).
            _ => seqs.iter().map(|&s| (s, s)).collect(),
        };
        let mut q = tx.prepare_cached(
            "SELECT seq, hash, rejection FROM settled WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3",
        )?;
        for (lo, hi) in ranges {
            let mut rows = q.query(params![device, to_i64(lo), to_i64(hi)])?;
            while let Some(r) = rows.next()? {
                let seq = to_u64(r.get(0)?);
                if !seqs.contains(&seq) {
                    continue;
                }
                let rejection = match r.get::<_, Option<String>>(2)? {
                    Some(j) => Some(
                        serde_json::from_str(&j)
                            .map_err(|e| StorageError::Corrupt(e.to_string()))?,
                    ),
                    None => None,
                };
                settled.insert(
                    seq,
                    Settled {
                        hash: r.get(1)?,
                        rejection,
                    },
                );
            }
        }
        // Every record the batch names, in one statement (the ids as a JSON array).
        let ids = referenced_ids(&batch);
        let mut list = String::with_capacity(ids.len() * 39 + 2);
        list.push('[');
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            list.push('"');
            list.push_str(&id.to_string());
            list.push('"');
        }
        list.push(']');
        let mut q = tx.prepare_cached(
            "SELECT id, kind, posyandu, fact_hash, creator_role, status FROM records
             WHERE id IN (SELECT value FROM json_each(?1))",
        )?;
        let mut rows = q.query([&list])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let kind: String = r.get(1)?;
            let creator_role: Option<String> = r.get(4)?;
            records.insert(
                id.parse::<RecordId>()
                    .map_err(|_| corrupt("record id", &id))?,
                RecordInfo {
                    kind: kind_from_str(&kind)?,
                    posyandu: r.get(2)?,
                    fact_hash: r.get(3)?,
                    creator_role: creator_role.as_deref().and_then(parse_role),
                    status: r.get(5)?,
                },
            );
        }
    }
    // Records the batch names that were not stored before it: no read-model state to load.
    let new: HashSet<RecordId> = batch
        .iter()
        .map(|p| p.change.id)
        .filter(|id| !records.contains_key(id))
        .collect();
    let others = other_authors(ctx, &batch);
    let authors = load_authors(tx, &device, &others)?;
    let logins = if others.is_empty() {
        Vec::new()
    } else {
        load_logins(tx, &device)?
    };
    let decided = plan(ctx, &batch, settled, records, &authors, &logins);
    // The device's acknowledged sequence and what it had settled after it before this push
    // (read before the inserts, so the push's own settled rows are not read back: they are
    // `decided.settled`).
    let acked: i64 = tx
        .prepare_cached("SELECT acked_seq FROM devices WHERE id = ?1")?
        .query_row([&device], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StorageError::NotFound("device".into()))?;
    let mut settled_after = std::collections::BTreeSet::new();
    {
        let mut q = tx.prepare_cached(
            "SELECT seq FROM settled WHERE device_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let rows = q.query_map(params![device, acked], |r| r.get::<_, i64>(0))?;
        for r in rows {
            settled_after.insert(to_u64(r?));
        }
    }
    settled_after.extend(decided.settled.iter().map(|s| s.seq));
    let acked_seq = advance_acked(to_u64(acked), settled_after);
    let now = to_i64(ctx.now_ms);
    let mut accepted_wall_ms = Vec::with_capacity(decided.log.len());
    let mut logged = Vec::with_capacity(decided.log.len());
    {
        // Multi-row inserts ([`insert_rows`]): fewer statements to step through per change;
        // `OR IGNORE` where no row can meet another (no statement journal), each statement's
        // rows counted.
        let seqs: Vec<i64> = decided.settled.iter().map(|s| to_i64(s.seq)).collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(seqs.len() * 4);
        for (s, seq) in decided.settled.iter().zip(&seqs) {
            values.extend([&device as &dyn rusqlite::ToSql, seq, &s.hash, &s.rejection]);
        }
        insert_rows(
            tx,
            // `plan` settles each of the device's numbers once, and only one not settled
            // before (the numbers were read above, in this transaction).
            "INSERT OR IGNORE INTO settled (device_id, seq, hash, rejection)",
            4,
            "",
            &values,
            |_| Ok(()),
        )?;
        let mut rows: Vec<(&str, i64, &str, usize)> = Vec::with_capacity(decided.log.len());
        for l in &decided.log {
            let Some(p) = batch.get(l.index) else {
                continue;
            };
            rows.push((&l.posyandu, to_i64(p.change.seq), &p.payload, l.index));
            accepted_wall_ms.push(p.change.hlc.wall_ms);
        }
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(rows.len() * 5);
        for (posyandu, seq, payload, _) in &rows {
            values.extend([
                posyandu as &dyn rusqlite::ToSql,
                &device,
                seq,
                &now,
                payload,
            ]);
        }
        // The server sequence of each logged row: `sseq` is the table's `AUTOINCREMENT`
        // rowid, which SQLite gives the rows of one statement in their order, one more than
        // the last each (this connection holds the only writer), so a statement's rows are
        // numbered up to its last rowid. No `RETURNING` (SQLite gathers its rows in a
        // temporary table first).
        let mut row = rows.iter();
        insert_rows_numbered(
            tx,
            // `sseq` is numbered by SQLite: no key to meet.
            "INSERT OR IGNORE INTO changes (posyandu, device_id, seq, received_at, payload)",
            5,
            &values,
            |n, last| {
                let first = last - (n as i64 - 1);
                for sseq in first..=last {
                    let (_, seq, _, index) = row.next().ok_or_else(|| {
                        StorageError::Corrupt(format!("logged sseq {sseq}: more rows than logged"))
                    })?;
                    // The numbering is SQLite's behaviour, not a documented guarantee (a
                    // trigger or a constraint on `changes` would break it): debug builds,
                    // which every test runs, read back each statement's first and last row.
                    if cfg!(debug_assertions) && (sseq == first || sseq == last) {
                        let stored: i64 = tx
                            .prepare_cached("SELECT seq FROM changes WHERE sseq = ?1")?
                            .query_row([sseq], |r| r.get(0))?;
                        if stored != *seq {
                            return Err(StorageError::Corrupt(format!(
                                "logged sseq {sseq} holds seq {stored}, not {seq}"
                            )));
                        }
                    }
                    logged.push((sseq, *index));
                }
                Ok(())
            },
        )?;
        // The records index: a record new before this push is inserted once, as it ends the
        // push (`plan` lists it again for each later status it takes: the same row but its
        // status); a stored one only moves its status.
        let mut last: HashMap<RecordId, usize> = HashMap::new();
        for (i, (id, _)) in decided.records.iter().enumerate() {
            last.insert(*id, i);
        }
        let mut fresh: Vec<(String, &RecordInfo)> = Vec::new();
        let mut moved: Vec<(String, &Option<String>)> = Vec::new();
        for (i, (id, r)) in decided.records.iter().enumerate() {
            if last.get(id) != Some(&i) {
                continue;
            }
            if new.contains(id) {
                fresh.push((id.to_string(), r));
            } else {
                moved.push((id.to_string(), &r.status));
            }
        }
        let kinds: Vec<(&str, Option<&str>)> = fresh
            .iter()
            .map(|(_, r)| (r.kind.as_str(), r.creator_role.map(role_str)))
            .collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(fresh.len() * 6);
        for ((id, r), (kind, role)) in fresh.iter().zip(&kinds) {
            values.extend([
                id as &dyn rusqlite::ToSql,
                kind,
                &r.posyandu,
                &r.fact_hash,
                role,
                &r.status,
            ]);
        }
        insert_rows(
            tx,
            "INSERT OR IGNORE INTO records (id, kind, posyandu, fact_hash, creator_role, status)",
            6,
            "",
            &values,
            |_| Ok(()),
        )?;
        let mut status = tx.prepare_cached("UPDATE records SET status = ?2 WHERE id = ?1")?;
        for (id, s) in &moved {
            status.execute(params![id, s])?;
        }
    }
    tx.prepare_cached(
        "UPDATE devices SET acked_seq = ?2, last_sync_at = ?3, last_seen_at = ?3 WHERE id = ?1",
    )?
    .execute(params![device, to_i64(acked_seq), now])?;
    let mut owned: Vec<Option<(Change, String)>> = batch
        .into_iter()
        .map(|p| Some((p.change, p.payload)))
        .collect();
    let logged = logged
        .into_iter()
        .filter_map(|(sseq, i)| {
            owned
                .get_mut(i)
                .and_then(Option::take)
                .map(|(c, payload)| (sseq, c, payload))
        })
        .collect();
    Ok(Pushed {
        result: PushResult {
            outcomes: decided.outcomes,
            acked_seq,
            accepted_wall_ms,
        },
        logged,
        new,
    })
}

/// Rows per multi-row `INSERT` of a push ([`insert_rows`]).
const ROWS_PER_INSERT: usize = 64;

/// Inserts rows of `width` values each (`values`, row after row) with `head VALUES (…), (…)
/// tail`: [`ROWS_PER_INSERT`] rows a statement, the rest one by one (two cached statements per
/// table); `on_row` sees each row a `RETURNING` tail returns. Every row must be inserted: an
/// `INSERT OR IGNORE` head (no statement journal) that skips one is an error, which undoes
/// the push (its savepoint) as a constraint error would.
fn insert_rows(
    tx: &Connection,
    head: &str,
    width: usize,
    tail: &str,
    values: &[&dyn rusqlite::ToSql],
    mut on_row: impl FnMut(&Row<'_>) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    in_chunks(tx, head, tail, width, values, |stmt, chunk| {
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk.iter()))?;
        while let Some(r) = rows.next()? {
            on_row(r)?;
        }
        drop(rows);
        let inserted = tx.changes();
        if usize::try_from(inserted).ok() != Some(chunk.len() / width) {
            return Err(StorageError::Corrupt(format!(
                "{head}: {inserted} of {} rows inserted",
                chunk.len() / width
            )));
        }
        Ok(())
    })
}

/// [`insert_rows`] into a rowid table whose rowid SQLite numbers (`changes.sseq`):
/// `on_statement(rows, last_rowid)` after each statement, with how many rows it inserted
/// (all of its rows: anything else is an error) and the rowid of its last row.
fn insert_rows_numbered(
    tx: &Connection,
    head: &str,
    width: usize,
    values: &[&dyn rusqlite::ToSql],
    mut on_statement: impl FnMut(usize, i64) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    in_chunks(tx, head, "", width, values, |stmt, chunk| {
        let inserted = stmt.execute(rusqlite::params_from_iter(chunk.iter()))?;
        let rows = chunk.len() / width;
        if inserted != rows {
            return Err(StorageError::Corrupt(format!(
                "{head}: {inserted} of {rows} rows inserted"
            )));
        }
        on_statement(rows, tx.last_insert_rowid())
    })
}

/// Runs `run` with `head VALUES (…), (…) … tail` over `values` (`width` a row):
/// [`ROWS_PER_INSERT`] rows a statement, the rest one row a statement; both statements cached.
fn in_chunks(
    tx: &Connection,
    head: &str,
    tail: &str,
    width: usize,
    values: &[&dyn rusqlite::ToSql],
    mut run: impl FnMut(
        &mut rusqlite::CachedStatement<'_>,
        &[&dyn rusqlite::ToSql],
    ) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let sql = |rows: usize| {
        let one = format!("({})", vec!["?"; width].join(", "));
        format!("{head} VALUES {} {tail}", vec![one; rows].join(", "))
    };
    let per = ROWS_PER_INSERT * width;
    let full = values.len() / per * per;
    if full > 0 {
        let mut stmt = tx.prepare_cached(&sql(ROWS_PER_INSERT))?;
        for chunk in values[..full].chunks(per) {
            run(&mut stmt, chunk)?;
        }
    }
    if full < values.len() {
        let mut stmt = tx.prepare_cached(&sql(1))?;
        for chunk in values[full..].chunks(width) {
            run(&mut stmt, chunk)?;
        }
    }
    Ok(())
}

/// A committed push: its answer, and for the read model's follower the changes it logged
/// (`(sseq, change, payload)`, in `sseq` order) and the records that were new to it.
struct Pushed {
    result: PushResult,
    logged: Vec<(i64, Change, String)>,
    new: HashSet<RecordId>,
}

/// A push waiting for the writer: its batch, prepared (serialised and hashed) before the
/// writer is taken, and where its answer goes.
struct Queued {
    ctx: Arc<PushContext>,
    batch: Vec<crate::sync::Prepared>,
    answer: tokio::sync::oneshot::Sender<Result<PushResult, StorageError>>,
}

/// Pushes of one group commit at most this many changes together (more wait for the next
/// group): a group's transaction, and so the answer of its first push, stays short.
const GROUP_MAX_CHANGES: usize = 16_000;
/// And at most this many pushes.
const GROUP_MAX_PUSHES: usize = 32;

/// Takes the next group from the queue: the oldest pushes, up to [`GROUP_MAX_CHANGES`]
/// changes (always at least one push).
fn next_group(queue: &Mutex<Vec<Queued>>) -> Vec<Queued> {
    let mut q = queue.lock().unwrap_or_else(|p| p.into_inner());
    let mut changes = 0usize;
    let mut take = 0usize;
    for item in q.iter() {
        if take > 0 && (take >= GROUP_MAX_PUSHES || changes + item.batch.len() > GROUP_MAX_CHANGES)
        {
            break;
        }
        changes += item.batch.len();
        take += 1;
    }
    q.drain(..take).collect()
}

/// What a group's transaction did: each push's outcome, in queue order, and whether the
/// commit succeeded.
fn settle_group(
    conn: &mut Connection,
    group: &mut [Queued],
) -> Result<Vec<Result<Pushed, StorageError>>, StorageError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut parts = Vec::with_capacity(group.len());
    for q in group.iter_mut() {
        tx.prepare_cached("SAVEPOINT push")?.execute([])?;
        let batch = std::mem::take(&mut q.batch);
        match push_in(&tx, &q.ctx, batch) {
            Ok(pushed) => {
                tx.prepare_cached("RELEASE push")?.execute([])?;
                parts.push(Ok(pushed));
            }
            Err(e) => {
                // This push's writes are undone; the group's others stay.
                tx.prepare_cached("ROLLBACK TO push")?.execute([])?;
                tx.prepare_cached("RELEASE push")?.execute([])?;
                parts.push(Err(e));
            }
        }
    }
    tx.commit()?;
    Ok(parts)
}

/// Group commit: the pushes queued while the writer was busy are settled in one
/// transaction, one savepoint each (a push that fails is undone alone and answered with its
/// error), committed with one sync of the WAL, and only then answered, each once. A later
/// push of the group sees what the earlier ones settled (a duplicate in flight is a
/// duplicate). Then the read model's follower merges what the group logged, still holding
/// the writer.
fn write_group(
    inner: &Inner,
    conn: &mut Connection,
    mut group: Vec<Queued>,
    without_read_model: bool,
    analyze: &super::AnalyzeDue,
) {
    let parts = match settle_group(conn, &mut group) {
        Ok(parts) => parts,
        Err(e) => {
            // Nothing of the group is stored (a failed commit rolls back).
            let message = e.to_string();
            for q in group {
                let _ = q.answer.send(Err(StorageError::Worker(format!(
                    "the push was not stored: {message}"
                ))));
            }
            return;
        }
    };
    // Answered only now that the group is committed; the writer stays held.
    inner
        .commits
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let n = inner.follower.committed();
    let mut all = Pushed {
        result: PushResult::default(),
        logged: Vec::new(),
        new: HashSet::new(),
    };
    for (q, part) in group.into_iter().zip(parts) {
        match part {
            Ok(mut pushed) => {
                let _ = q.answer.send(Ok(std::mem::take(&mut pushed.result)));
                all.logged.append(&mut pushed.logged);
                all.new.extend(pushed.new);
            }
            Err(e) => {
                let _ = q.answer.send(Err(e));
            }
        }
    }
    if !all.logged.is_empty()
        && !without_read_model
        && let Err(e) = follow(conn, &all)
    {
        tracing::error!(error = %e, "read model: a push's changes were not merged; the next push or start merges them");
    }
    inner.follower.merged(n);
    if all.logged.is_empty() || without_read_model {
        return;
    }
    if analyze.logged(all.logged.len())
        && let Err(e) = crate::readmodel::sqlite::analyze(conn)
    {
        tracing::warn!(error = %e, "read model: ANALYZE failed");
    }
}

/// The read model's follower (docs/read-model.md): merges a push's logged changes in a
/// transaction of its own, right after the push committed, still holding the writer, so no
/// other write (the next push among them) starts before it is done: the read model is never
/// more than one push behind the log. Its commit does not wait for the disk
/// (`synchronous = NORMAL`; the next push's commit syncs it): lost to a power cut, it is
/// merged again by the catch-up every start makes ([`crate::readmodel::ensure_current`]).
fn follow(conn: &mut Connection, pushed: &Pushed) -> Result<(), StorageError> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let merged = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let logged: Vec<(i64, &Change, &str)> = pushed
            .logged
            .iter()
            .map(|(s, c, p)| (*s, c, p.as_str()))
            .collect();
        crate::readmodel::sqlite::merge_pushed(&tx, &logged, &pushed.new)?;
        tx.commit()?;
        Ok(())
    })();
    conn.pragma_update(None, "synchronous", "FULL")?;
    merged
}

/// In scope, through the `(posyandu, sseq)` index (small scopes).
const IN_SCOPE: &str = "posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1)";
/// In scope, without that index (`+` keeps SQLite on the log's `sseq` order; large scopes).
const IN_SCOPE_SCAN: &str = "+posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1)";

/// One page of the log in scope ([`IN_SCOPE`]); its statement is cached by its text.
const PULL_IN_SCOPE: &str = "SELECT sseq, payload FROM changes
     WHERE sseq > ?2 AND (?4 IS NULL OR device_id <> ?4) AND quarantined_at IS NULL
       AND posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1)
     ORDER BY sseq LIMIT ?3";
/// The same for large scopes ([`IN_SCOPE_SCAN`]).
const PULL_IN_SCOPE_SCAN: &str = "SELECT sseq, payload FROM changes
     WHERE sseq > ?2 AND (?4 IS NULL OR device_id <> ?4) AND quarantined_at IS NULL
       AND +posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1)
     ORDER BY sseq LIMIT ?3";

/// Whether other devices' changes wait in scope ([`IN_SCOPE`]; `status`).
const PENDING_IN_SCOPE: &str = "SELECT EXISTS (SELECT 1 FROM changes WHERE sseq > ?2
     AND device_id <> ?3 AND quarantined_at IS NULL
     AND posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1))";
/// The same for large scopes ([`IN_SCOPE_SCAN`]).
const PENDING_IN_SCOPE_SCAN: &str = "SELECT EXISTS (SELECT 1 FROM changes WHERE sseq > ?2
     AND device_id <> ?3 AND quarantined_at IS NULL
     AND +posyandu IN (SELECT code FROM place_tree WHERE ancestor = ?1))";

fn scope_filter(
    c: &Connection,
    sizes: &super::ScopeSizes,
    scope: &str,
) -> Result<&'static str, StorageError> {
    let small = match sizes.get(scope) {
        Some(small) => small,
        None => {
            let places: i64 = c
                .prepare_cached("SELECT count(*) FROM place_tree WHERE ancestor = ?1")?
                .query_row([scope], |r| r.get(0))?;
            let small = places <= super::SMALL_SCOPE_PLACES;
            sizes.set(scope, small);
            small
        }
    };
    Ok(if small { IN_SCOPE } else { IN_SCOPE_SCAN })
}

/// One page of the log in `scope` after `after`, without `exclude`'s own changes nor
/// quarantined ones, cut by count and by bytes (rows are read one at a time, so a page never
/// holds more than one row past its byte limit in memory).
fn pull_page(
    c: &Connection,
    sizes: &super::ScopeSizes,
    scope: &str,
    after: i64,
    limit: usize,
    exclude: Option<&str>,
    max_bytes: usize,
) -> Result<PullPage, StorageError> {
    let filter = scope_filter(c, sizes, scope)?;
    // Read before the page (see `PageCutter::finish_at`).
    let high_water: i64 = c
        .prepare_cached("SELECT COALESCE(MAX(sseq), 0) FROM changes")?
        .query_row([], |r| r.get(0))?;
    let mut cut = super::PageCutter::new(after, limit, max_bytes);
    if high_water <= after {
        // The cursor is at the log's head (a check-in with nothing new): no page to read.
        return Ok(cut.finish_at(Vec::new(), high_water));
    }
    let mut q = c.prepare_cached(if filter == IN_SCOPE {
        PULL_IN_SCOPE
    } else {
        PULL_IN_SCOPE_SCAN
    })?;
    let fetch = i64::try_from(cut.fetch()).unwrap_or(i64::MAX);
    let mut rows = q.query(params![scope, after, fetch, exclude])?;
    let mut page = Vec::with_capacity(limit.min(4096));
    while let Some(r) = rows.next()? {
        let sseq: i64 = r.get(0)?;
        let len = r.get_ref(1)?.as_bytes().map_or(0, <[u8]>::len);
        match cut.offer(sseq, len) {
            super::Cut::Take => page.push((sseq, r.get::<_, String>(1)?)),
            super::Cut::Skip => {}
            super::Cut::Stop => break,
        }
    }
    Ok(cut.finish_at(page, high_water))
}

/// The changes an admin names, by server sequence or record id.
fn target_sql(target: &super::ChangeTarget) -> (String, String) {
    match target {
        super::ChangeTarget::Sseq(n) => ("sseq = ?1".into(), n.to_string()),
        super::ChangeTarget::Record(id) => (
            "substr(payload, 1, 44) = ?1".into(),
            format!("{{\"id\":\"{id}\""),
        ),
    }
}

impl Storage for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn migrate(&self) -> StoreFuture<'_, usize> {
        self.write(migrate)
    }

    fn schema_version(&self) -> StoreFuture<'_, i64> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )?)
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
    }

    fn import_places(&self, places: Vec<Place>) -> StoreFuture<'_, usize> {
        let sizes = self.sizes.clone();
        self.write(move |c| {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare(
                    "INSERT INTO places (code, name, level, parent) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent",
                )?;
                for p in &places {
                    ins.execute(params![p.code, p.name, level_str(p.level), p.parent])?;
                }
            }
            let all: Vec<Place> = {
                let mut q = tx.prepare("SELECT code, name, level, parent FROM places")?;
                collect(q.query_map([], |r| Ok(place_from_row(r)))?)?
            };
            tx.execute("DELETE FROM place_tree", [])?;
            {
                let mut ins =
                    tx.prepare("INSERT INTO place_tree (ancestor, code) VALUES (?1, ?2)")?;
                for (a, d) in closure(&all) {
                    ins.execute(params![a, d])?;
                }
            }
            tx.commit()?;
            sizes.clear();
            Ok(places.len())
        })
    }

    fn place(&self, code: String) -> StoreFuture<'_, Option<Place>> {
        self.read(move |c| {
            c.query_row(
                "SELECT code, name, level, parent FROM places WHERE code = ?1",
                [code],
                |r| Ok(place_from_row(r)),
            )
            .optional()?
            .transpose()
        })
    }

    fn all_places(&self) -> StoreFuture<'_, Vec<Place>> {
        self.read(|c| {
            let mut q = c.prepare("SELECT code, name, level, parent FROM places ORDER BY code")?;
            collect(q.query_map([], |r| Ok(place_from_row(r)))?)
        })
    }

    fn posyandu_under(&self, place: String) -> StoreFuture<'_, Vec<String>> {
        self.read(move |c| {
            let mut q = c.prepare_cached(POSYANDU_UNDER)?;
            let rows = q.query_map([place], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                out.push(r?);
            }
            Ok(out)
        })
    }

    fn places_for_scope(&self, place: String) -> StoreFuture<'_, Vec<Place>> {
        self.read(move |c| {
            let mut q = c.prepare_cached(PLACES_FOR_SCOPE)?;
            collect(q.query_map([place], |r| Ok(place_from_row(r)))?)
        })
    }

    fn create_user(&self, user: User) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            let n = c.execute(
                "INSERT INTO users (id, username, display_name, role, scope_level, scope_place, secret_hash, disabled_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8) ON CONFLICT (username) DO NOTHING",
                params![
                    user.id.to_string(),
                    user.username,
                    user.display_name,
                    role_str(user.role),
                    level_str(user.scope.level),
                    user.scope.place,
                    user.secret_hash,
                    to_i64(crate::model::now_ms())
                ],
            )?;
            if n == 0 {
                return Err(StorageError::Conflict(format!(
                    "the username {:?} is taken",
                    user.username
                )));
            }
            Ok(())
        })
    }

    fn user_by_username(&self, username: String) -> StoreFuture<'_, Option<User>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
                [username],
                |r| Ok(user_from_row(r, 0)),
            )
            .optional()?
            .transpose()
        })
    }

    fn user_by_id(&self, id: UserId) -> StoreFuture<'_, Option<User>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
                [id.to_string()],
                |r| Ok(user_from_row(r, 0)),
            )
            .optional()?
            .transpose()
        })
    }

    fn list_users(&self) -> StoreFuture<'_, Vec<User>> {
        self.read(|c| {
            let mut q = c.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))?;
            collect(q.query_map([], |r| Ok(user_from_row(r, 0)))?)
        })
    }

    fn set_user_disabled(
        &self,
        username: String,
        disabled: bool,
        now: u64,
    ) -> StoreFuture<'_, bool> {
        self.write(move |c| {
            let at = disabled.then_some(to_i64(now));
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET disabled_at = ?2 WHERE username = ?1",
                params![username, at],
            )?;
            if disabled {
                // Disabling ends every session (kept, expired now: the device is told the
                // account is disabled, and after `user enable` that the session ended).
                tx.execute(
                    "UPDATE sessions SET expires_at = ?2
                     WHERE user_id IN (SELECT id FROM users WHERE username = ?1) AND expires_at > ?2",
                    params![username, to_i64(now)],
                )?;
            }
            tx.commit()?;
            Ok(n > 0)
        })
    }

    fn create_enrol_code(
        &self,
        code_hash: String,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO enrol_codes (code_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, user.to_string(), to_i64(now), to_i64(expires_at)],
            )?;
            Ok(())
        })
    }

    fn enrol(
        &self,
        code_hash: String,
        device: NewDevice,
    ) -> StoreFuture<'_, Result<Device, EnrolRefusal>> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row: Option<(String, i64, Option<i64>, Option<String>)> = tx
                .query_row(
                    "SELECT user_id, expires_at, used_at, device_id FROM enrol_codes WHERE code_hash = ?1",
                    [&code_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((user_id, expires_at, used_at, pending)) = row else {
                return Ok(Err(EnrolRefusal::Invalid));
            };
            if used_at.is_some() {
                return Ok(Err(EnrolRefusal::Invalid));
            }
            if to_u64(expires_at) <= device.now {
                return Ok(Err(EnrolRefusal::Expired));
            }
            let now = to_i64(device.now);
            let mut device = device;
            // The code made a device that no user has logged in on yet (a wrong password):
            // the same device is enrolled again with a new token, and the code stays
            // unused until a login on it succeeds.
            let again = match pending {
                Some(id) => tx
                    .query_row(
                        "SELECT id FROM devices WHERE id = ?1 AND revoked_at IS NULL",
                        [&id],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()?,
                None => None,
            };
            if let Some(id) = again {
                device.id = id.parse().map_err(|_| corrupt("device id", &id))?;
                tx.execute(
                    "UPDATE devices SET name = ?2, token_hash = ?3, enrolled_at = ?4, last_seen_at = ?4, app_version = ?5
                     WHERE id = ?1",
                    params![id, device.name, device.token_hash, now, device.app_version],
                )?;
            } else {
                tx.execute(
                    "UPDATE enrol_codes SET device_id = ?2 WHERE code_hash = ?1",
                    params![code_hash, device.id.to_string()],
                )?;
                tx.execute(
                    "INSERT INTO devices (id, name, token_hash, user_id, enrolled_at, last_seen_at, app_version, acked_seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 0)",
                    params![
                        device.id.to_string(),
                        device.name,
                        device.token_hash,
                        user_id,
                        now,
                        device.app_version
                    ],
                )?;
            }
            tx.commit()?;
            let user_id = user_id.parse().map_err(|_| corrupt("user id", &user_id))?;
            Ok(Ok(device.enrolled(user_id)))
        })
    }

    fn device_by_token(&self, token_hash: String) -> StoreFuture<'_, Option<Device>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"),
                [token_hash],
                |r| Ok(device_from_row(r, 0)),
            )
            .optional()?
            .transpose()
        })
    }

    fn device(&self, id: DeviceId) -> StoreFuture<'_, Option<Device>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {DEVICE_COLS} FROM devices WHERE id = ?1"),
                [id.to_string()],
                |r| Ok(device_from_row(r, 0)),
            )
            .optional()?
            .transpose()
        })
    }

    fn list_devices(&self) -> StoreFuture<'_, Vec<Device>> {
        self.read(|c| {
            let mut q = c.prepare(&format!(
                "SELECT {DEVICE_COLS} FROM devices ORDER BY enrolled_at"
            ))?;
            collect(q.query_map([], |r| Ok(device_from_row(r, 0)))?)
        })
    }

    fn revoke_device(&self, id: DeviceId, now: u64) -> StoreFuture<'_, bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
                params![id.to_string(), to_i64(now)],
            )?;
            Ok(n > 0)
        })
    }

    fn touch_device(
        &self,
        id: DeviceId,
        now: u64,
        app_version: Option<String>,
    ) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            c.execute(
                "UPDATE devices SET last_seen_at = ?2, app_version = COALESCE(?3, app_version) WHERE id = ?1",
                params![id.to_string(), to_i64(now), app_version],
            )?;
            Ok(())
        })
    }

    fn create_session(
        &self,
        token_hash: String,
        user: UserId,
        device: DeviceId,
        now: u64,
        expires_at: u64,
        hlc: Option<Hlc>,
    ) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            let tx = c.transaction()?;
            let previous: Option<String> = tx
                .query_row(
                    "SELECT hlc FROM device_logins WHERE device_id = ?1 ORDER BY n DESC LIMIT 1",
                    [device.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let previous = previous.and_then(|h| h.parse().ok());
            tx.execute(
                "INSERT INTO device_logins (device_id, user_id, hlc, at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    device.to_string(),
                    user.to_string(),
                    login_hlc(hlc, now, previous).to_string(),
                    to_i64(now)
                ],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    token_hash,
                    user.to_string(),
                    device.to_string(),
                    to_i64(now),
                    to_i64(expires_at)
                ],
            )?;
            // The first login on a device uses up the code that enrolled it.
            tx.execute(
                "UPDATE enrol_codes SET used_at = ?2 WHERE device_id = ?1 AND used_at IS NULL",
                params![device.to_string(), to_i64(now)],
            )?;
            tx.execute(
                "INSERT INTO device_users (device_id, user_id, first_login_at, last_login_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (device_id, user_id) DO UPDATE SET last_login_at = excluded.last_login_at",
                params![device.to_string(), user.to_string(), to_i64(now)],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    fn session(&self, token_hash: String) -> StoreFuture<'_, Option<SessionInfo>> {
        self.read(move |c| {
            // Asked at every request: the statement is built once and kept prepared.
            static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "SELECT s.expires_at, {}, {} FROM sessions s
                     JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id
                     WHERE s.token_hash = ?1",
                    USER_COLS
                        .split(", ")
                        .map(|c| format!("u.{c}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    DEVICE_COLS
                        .split(", ")
                        .map(|c| format!("d.{c}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            });
            c.prepare_cached(&SQL)?
                .query_row([token_hash], |r| {
                    Ok((|| {
                        Ok::<_, StorageError>(SessionInfo {
                            expires_at: to_u64(r.get(0)?),
                            user: user_from_row(r, 1)?,
                            device: device_from_row(r, 9)?,
                        })
                    })())
                })
                .optional()?
                .transpose()
        })
    }

    fn device_user_known(&self, device: DeviceId, user: UserId) -> StoreFuture<'_, bool> {
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT EXISTS (SELECT 1 FROM device_users WHERE device_id = ?1 AND user_id = ?2)",
                params![device.to_string(), user.to_string()],
                |r| r.get(0),
            )?)
        })
    }

    fn push(&self, ctx: Arc<PushContext>, changes: Vec<Change>) -> StoreFuture<'_, PushResult> {
        let inner = self.inner.clone();
        let without_read_model = self.without_read_model;
        let analyze = self.analyze.clone();
        Box::pin(async move {
            let (answer, answered) = tokio::sync::oneshot::channel();
            tokio::task::spawn_blocking(move || {
                // The batch's stored form, and the checks that need no database, are made
                // before the writer is taken (in parallel with other pushes).
                let batch = changes
                    .into_iter()
                    .map(|c| crate::sync::Prepared::checked(c, &ctx))
                    .collect();
                inner
                    .queue
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Queued { ctx, batch, answer });
                // Whoever holds the writer settles every push queued by then (this one among
                // them, unless an earlier holder took it already): group commit.
                let mut conn = match inner.writer.lock() {
                    Ok(c) => c,
                    Err(_) => {
                        for q in next_group(&inner.queue) {
                            let _ = q
                                .answer
                                .send(Err(StorageError::Worker("writer lock poisoned".into())));
                        }
                        return;
                    }
                };
                loop {
                    let group = next_group(&inner.queue);
                    if group.is_empty() {
                        return;
                    }
                    write_group(&inner, &mut conn, group, without_read_model, &analyze);
                }
            });
            answered
                .await
                .map_err(|e| StorageError::Worker(e.to_string()))?
        })
    }

    fn pull(&self, scope: String, after: i64, limit: usize) -> StoreFuture<'_, PullPage> {
        let sizes = self.sizes.clone();
        self.read(move |c| pull_page(c, &sizes, &scope, after, limit, None, usize::MAX))
    }

    fn pull_for(
        &self,
        device: DeviceId,
        scope: String,
        after: i64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, PullPage> {
        let sizes = self.sizes.clone();
        let device = device.to_string();
        self.read(move |c| pull_page(c, &sizes, &scope, after, limit, Some(&device), max_bytes))
    }

    fn set_quarantine(
        &self,
        target: super::ChangeTarget,
        on: bool,
        reason: String,
        now: u64,
    ) -> StoreFuture<'_, Vec<i64>> {
        self.write(move |c| {
            let tx = c.transaction()?;
            let (cond, arg) = target_sql(&target);
            let state = if on {
                "quarantined_at IS NULL"
            } else {
                "quarantined_at IS NOT NULL"
            };
            let sseqs: Vec<i64> = {
                let mut q = tx.prepare(&format!(
                    "SELECT sseq FROM changes WHERE {cond} AND {state} ORDER BY sseq"
                ))?;
                collect(q.query_map([&arg], |r| Ok(Ok::<i64, StorageError>(r.get(0)?)))?)?
            };
            {
                let mut upd = tx.prepare(
                    "UPDATE changes SET quarantined_at = ?2, quarantine_reason = ?3 WHERE sseq = ?1",
                )?;
                let mut log = tx.prepare(
                    "INSERT INTO change_quarantine_log (at, sseq, action, reason) VALUES (?1, ?2, ?3, ?4)",
                )?;
                let action = if on { "quarantine" } else { "release" };
                for n in &sseqs {
                    if on {
                        upd.execute(params![n, to_i64(now), reason])?;
                    } else {
                        upd.execute(params![n, Option::<i64>::None, Option::<String>::None])?;
                    }
                    log.execute(params![to_i64(now), n, action, reason])?;
                }
            }
            crate::readmodel::sqlite::remerge_sseqs(&tx, &sseqs)?;
            tx.commit()?;
            Ok(sseqs)
        })
    }

    fn list_changes(
        &self,
        filter: super::ChangeFilter,
    ) -> StoreFuture<'_, Vec<super::LoggedChange>> {
        self.read(move |c| {
            let mut q = c.prepare(
                "SELECT sseq, substr(payload, 1, 120), posyandu, device_id, seq, received_at,
                        length(CAST(payload AS BLOB)), quarantined_at, quarantine_reason
                 FROM changes
                 WHERE (?1 = 0 OR quarantined_at IS NOT NULL) AND length(CAST(payload AS BLOB)) >= ?2
                 ORDER BY sseq DESC LIMIT ?3",
            )?;
            let limit = i64::try_from(filter.limit.max(1)).unwrap_or(i64::MAX);
            let min = i64::try_from(filter.min_bytes).unwrap_or(i64::MAX);
            collect(q.query_map(
                params![i64::from(filter.quarantined_only), min, limit],
                |r| {
                    let head: String = r.get(1)?;
                    let (record, kind) = super::LoggedChange::id_and_kind(&head);
                    Ok(Ok::<_, StorageError>(super::LoggedChange {
                        sseq: r.get(0)?,
                        record,
                        kind,
                        posyandu: r.get(2)?,
                        device: r.get(3)?,
                        seq: r.get(4)?,
                        received_at: to_u64(r.get(5)?),
                        bytes: to_u64(r.get(6)?),
                        quarantined_at: r.get::<_, Option<i64>>(7)?.map(to_u64),
                        quarantine_reason: r.get(8)?,
                    }))
                },
            )?)
        })
    }

    fn status(&self, device: DeviceId, scope: String, after: i64) -> StoreFuture<'_, StatusInfo> {
        let sizes = self.sizes.clone();
        self.read(move |c| {
            let acked: Option<i64> = c
                .query_row(
                    "SELECT acked_seq FROM devices WHERE id = ?1",
                    [device.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let sql = if scope_filter(c, &sizes, &scope)? == IN_SCOPE {
                PENDING_IN_SCOPE
            } else {
                PENDING_IN_SCOPE_SCAN
            };
            let pending: bool = c
                .prepare_cached(sql)?
                .query_row(params![scope, after, device.to_string()], |r| r.get(0))?;
            Ok(StatusInfo {
                acked_seq: to_u64(acked.unwrap_or(0)),
                pull_pending: pending,
            })
        })
    }

    fn titip_server_key(&self, fresh: Vec<u8>, now: u64) -> StoreFuture<'_, Vec<u8>> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO titip_server_key (id, secret, created_at) VALUES (1, ?1, ?2)
                 ON CONFLICT(id) DO NOTHING",
                params![fresh, to_i64(now)],
            )?;
            Ok(c.query_row(
                "SELECT secret FROM titip_server_key WHERE id = 1",
                [],
                |r| r.get(0),
            )?)
        })
    }

    fn set_device_titip(&self, id: DeviceId, keys: TitipKeys) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            c.execute(
                "UPDATE devices SET titip_box = ?2, titip_sign = ?3 WHERE id = ?1",
                params![id.to_string(), keys.box_key, keys.sign],
            )?;
            Ok(())
        })
    }

    fn device_titip(&self, id: DeviceId) -> StoreFuture<'_, Option<TitipKeys>> {
        self.read(move |c| {
            let row: Option<(Option<String>, Option<String>)> = c
                .query_row(
                    "SELECT titip_box, titip_sign FROM devices WHERE id = ?1",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(match row {
                Some((Some(box_key), Some(sign))) => Some(TitipKeys { box_key, sign }),
                _ => None,
            })
        })
    }

    fn touch_relay(&self, id: DeviceId, now: u64) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            c.execute(
                "UPDATE devices SET last_relay_at = ?2 WHERE id = ?1",
                params![id.to_string(), to_i64(now)],
            )?;
            Ok(())
        })
    }

    fn record_titip_refusal(&self, r: TitipRefusal) -> StoreFuture<'_, ()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO titip_refusals (at, device_id, carrier_device, reason)
                 VALUES (?1, ?2, ?3, ?4)",
                params![to_i64(r.at), r.device, r.carrier, r.reason],
            )?;
            Ok(())
        })
    }

    fn titip_refusals(&self, limit: usize) -> StoreFuture<'_, Vec<TitipRefusal>> {
        self.read(move |c| {
            let mut q = c.prepare(
                "SELECT at, device_id, carrier_device, reason FROM titip_refusals
                 ORDER BY at DESC, rowid DESC LIMIT ?1",
            )?;
            let rows = q.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok(TitipRefusal {
                    at: to_u64(r.get(0)?),
                    device: r.get(1)?,
                    carrier: r.get(2)?,
                    reason: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wal_len(path: &std::path::Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// A reader that pins old frames keeps `PASSIVE` from emptying the WAL; past the bound the
    /// checkpoint waits for it, copies everything and truncates the WAL; the data is intact
    /// and a new connection (a restart) reads all of it from the database file.
    #[test]
    fn a_wal_past_its_bound_is_truncated_once_readers_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let p = path.to_str().unwrap();
        let writer = Connection::open(p).unwrap();
        configure(&writer).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer
            .execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        let fill = |from: i64, to: i64| {
            for n in from..to {
                writer
                    .execute(
                        "INSERT INTO t VALUES (?1, ?2)",
                        params![n, "x".repeat(2000)],
                    )
                    .unwrap();
            }
        };
        fill(0, 100);
        let ckpt = Connection::open(p).unwrap();
        configure(&ckpt).unwrap();
        ckpt.busy_timeout(std::time::Duration::from_millis(100))
            .unwrap();
        // Under the bound: copied, the WAL kept for the next writer to reuse.
        let c = checkpoint(&ckpt, 100_000).unwrap();
        assert!(
            !c.truncated && c.frames > 0 && c.copied == c.frames,
            "{c:?}"
        );

        // A reader holds a snapshot while 1,000 more rows are committed.
        let reader = Connection::open(p).unwrap();
        configure(&reader).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        assert_eq!(count(&reader), 100);
        fill(100, 1100);
        let pinned = checkpoint(&ckpt, 50).unwrap();
        assert!(!pinned.truncated, "{pinned:?}");
        assert!(pinned.frames > 50, "{pinned:?}");
        assert!(wal_len(&path) > 0);

        // The reader lets go while the checkpoint waits for it.
        ckpt.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let reader = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            reader.execute_batch("COMMIT").unwrap();
        });
        let done = checkpoint(&ckpt, 50).unwrap();
        reader.join().unwrap();
        assert!(done.truncated && done.frames == 0, "{done:?}");
        assert_eq!(wal_len(&path), 0);
        assert_eq!(count(&writer), 1100);
        drop((writer, ckpt));

        // A restart: every row is in the database file.
        assert_eq!(wal_len(&path), 0);
        let again = Connection::open(p).unwrap();
        assert_eq!(count(&again), 1100);
        let sum: i64 = again
            .query_row("SELECT sum(length(v)) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, 1100 * 2000);
    }
}
