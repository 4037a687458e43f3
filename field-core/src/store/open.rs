//! Creating and unlocking the encrypted database.

use super::Store;
use crate::clock::{Clock, SystemClock};
use crate::error::{Result, StoreError};
use crate::keyring::{DbKey, KdfParams, Keyring, LocalUser};
use crate::migrations;
use rusqlite::{Connection, OpenFlags, params};
use std::path::Path;
use std::sync::Arc;
use sync_protocol::{ClockPolicy, DeviceId, Hlc};

/// How to open a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub clock: Arc<dyn Clock>,
    /// Argon2id cost for keys sealed while this store is open (a new user, a PIN change).
    pub kdf: KdfParams,
    pub clock_policy: ClockPolicy,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            kdf: KdfParams::TABLET,
            clock_policy: ClockPolicy::default(),
        }
    }
}

impl OpenOptions {
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }
}

impl Store {
    /// Creates a new encrypted database for an enrolled device, with its first user.
    /// A random key is made and sealed under the user's PIN in the keyring beside the file.
    pub fn create(
        path: &Path,
        device: DeviceId,
        first_user: &LocalUser,
        pin: &str,
        opts: OpenOptions,
    ) -> Result<Store> {
        let ring_path = Keyring::path_for(path);
        if path.exists() {
            if ring_path.exists() {
                return Err(StoreError::AlreadyExists(path.display().to_string()));
            }
            // A database without a keyring can never be read again (a create cut short
            // before the keyring was written): start over.
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
        let key = DbKey::random();
        let mut ring = Keyring {
            version: 1,
            users: Vec::new(),
        };
        // Seal first: a bad PIN is refused before anything is written.
        ring.add_user(first_user, pin, &key, opts.kdf)?;
        let mut conn = open_conn(path, &key, true)?;
        migrations::migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO device_state (id, device_id, next_seq, hlc_last, hlc_offset_ms)
             VALUES (1, ?1, 1, ?2, 0)",
            params![device.to_string(), Hlc::ZERO.to_string()],
        )?;
        upsert_user(&conn, first_user)?;
        ring.save(&ring_path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            key,
            clock: opts.clock,
            device,
            user: first_user.clone(),
            policy: opts.clock_policy,
            rules: crate::health::RuleOptions::default(),
        })
    }

    /// Unlocks the database with a user's PIN, offline. A wrong PIN is `StoreError::WrongPin`.
    pub fn unlock(path: &Path, username: &str, pin: &str, opts: OpenOptions) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.display().to_string()));
        }
        let ring = Keyring::load(&Keyring::path_for(path))?;
        let (user, key) = ring.unlock(username, pin)?;
        let mut conn = open_conn(path, &key, false)?;
        migrations::migrate(&mut conn)?;
        let device: String =
            conn.query_row("SELECT device_id FROM device_state WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let device = device
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("device id {device:?}")))?;
        upsert_user(&conn, &user)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            key,
            clock: opts.clock,
            device,
            user,
            policy: opts.clock_policy,
            rules: crate::health::RuleOptions::default(),
        })
    }
}

/// Opens the file with the key and sets the pragmas every connection needs.
fn open_conn(path: &Path, key: &DbKey, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch(&key.pragma())?;
    // The first read decrypts page 1: a wrong key fails here.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return Err(StoreError::NotADatabase(e.to_string()));
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal mode {mode}, expected wal"
        )));
    }
    // A 16 MiB page cache (decrypted pages): large pulls touch many index pages. A
    // checkpoint every 8000 WAL pages (32 MiB) writes hot index pages to the file once instead
    // of many times during a large pull (the benchmark's 100,000 pulled changes: 8 s -> 5.5 s);
    // the WAL file is cut back to 64 MiB after a checkpoint.
    // FULL: in WAL mode, NORMAL may lose the last transactions on power loss; FULL syncs the
    // WAL at every commit, so a committed record survives a battery dying right after.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;
         PRAGMA wal_autocheckpoint = 8000;
         PRAGMA journal_size_limit = 67108864;",
    )?;
    Ok(conn)
}

pub(crate) fn upsert_user(conn: &Connection, user: &LocalUser) -> Result<()> {
    conn.execute(
        "INSERT INTO users (id, username, display_name, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET username = excluded.username,
             display_name = excluded.display_name, role = excluded.role",
        params![
            user.user_id.to_string(),
            user.username,
            user.display_name,
            user.role
        ],
    )?;
    Ok(())
}
