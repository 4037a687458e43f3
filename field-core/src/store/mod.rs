//! The encrypted store: creating, unlocking, users, and the write path every change takes.

pub(crate) mod bulk;
pub mod files;
mod open;
mod writer;

pub use open::{
    CipherSettings, LEGACY_HMAC, LEGACY_PAGE_SIZE, NEW_STORE_HMAC, NEW_STORE_PAGE_SIZE,
    OpenOptions, PAGE_HMACS, PAGE_SIZES, PageHmac, Sealing,
};
pub(crate) use writer::Writer;

use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::keyring::{DbKey, KdfParams, Keyring, LocalUser};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use sync_protocol::{DeviceId, HybridClock};

/// One unlocked Jangkau database, for one user at a time.
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    key: DbKey,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) device: DeviceId,
    pub(crate) user: LocalUser,
    pub(crate) policy: sync_protocol::ClockPolicy,
    pub(crate) rules: crate::health::RuleOptions,
    /// The local time zone's offset from UTC (setting `utc_offset_minutes`, WITA by default).
    pub(crate) utc_offset_ms: i64,
    /// `OpenOptions::memory_security` as this store was opened (kept for [`Store::reopen`]).
    memory_security: bool,
    /// The database's page size and MAC, found at unlock, kept for [`Store::reopen`].
    cipher: CipherSettings,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("device", &self.device)
            .field("user", &self.user.username)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The user who unlocked the store (the author of every change made through it).
    pub fn user(&self) -> &LocalUser {
        &self.user
    }

    /// The rule tables (KBM, ANC schedule, JE area) used for growth results and tasks.
    pub fn set_rules(&mut self, rules: crate::health::RuleOptions) {
        self.rules = rules;
    }

    pub fn device_id(&self) -> DeviceId {
        self.device
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The page size and page MAC this store's database was made with.
    pub fn cipher_settings(&self) -> CipherSettings {
        self.cipher
    }

    /// The raw connection, for reports and tests that read the tables directly. Writes must
    /// go through the domain API (they need their outbox entries).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Lets another person use this tablet with their own PIN. The database is not rewritten:
    /// the same key is sealed for the new user in the keyring.
    pub fn add_user(&mut self, user: &LocalUser, pin: &str, kdf: KdfParams) -> Result<()> {
        let path = Keyring::path_for(&self.path);
        let mut ring = Keyring::load(&path)?;
        ring.add_user(user, pin, &self.key, kdf)?;
        ring.save(&path)?;
        open::upsert_user(&self.conn, user)?;
        Ok(())
    }

    /// Removes another user's access to this tablet: their sealed copy of the key leaves the
    /// keyring. Refused for the user who unlocked the store
    /// ([`StoreError::CannotRemoveCurrentUser`]) and for the last user
    /// ([`StoreError::CannotRemoveLastUser`]): either would leave a database nobody can open.
    ///
    /// The database key is **not rotated**: whoever kept an old copy of the keyring file and
    /// knows the removed user's PIN can still open a copy of the database. Their past changes
    /// stay, with their name as author.
    pub fn remove_user(&mut self, username: &str) -> Result<()> {
        if username == self.user.username {
            return Err(StoreError::CannotRemoveCurrentUser(username.to_string()));
        }
        let path = Keyring::path_for(&self.path);
        let mut ring = Keyring::load(&path)?;
        ring.remove_user(username)?;
        ring.save(&path)
    }

    /// The local time zone as minutes east of UTC (480 = WITA, the default; 420 = WIB,
    /// 540 = WIT). Dates a user sees and "today" for validation are in this zone.
    pub fn utc_offset_minutes(&self) -> i32 {
        i32::try_from(self.utc_offset_ms / 60_000).unwrap_or(480)
    }

    /// Sets the local time zone (a device setting, not synced). Between −12 h and +14 h.
    pub fn set_utc_offset_minutes(&mut self, minutes: i32) -> Result<()> {
        if !(-12 * 60..=14 * 60).contains(&minutes) {
            return Err(crate::messages::invalid(
                "utc_offset_minutes",
                crate::messages::Key::OutOfRange,
                &[("min", "-720".into()), ("max", "840".into())],
            )
            .into());
        }
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES ('utc_offset_minutes', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [minutes.to_string()],
        )?;
        self.utc_offset_ms = i64::from(minutes) * 60_000;
        Ok(())
    }

    /// Users who can unlock this tablet (no secrets). Needs no PIN: the login screen lists them.
    pub fn local_users(db: &Path) -> Result<Vec<LocalUser>> {
        Ok(Keyring::load(&Keyring::path_for(db))?
            .users
            .iter()
            .map(|e| e.user())
            .collect())
    }

    /// The HLC as saved in the database.
    pub fn hybrid_clock(&self) -> Result<HybridClock> {
        Ok(writer::load_state(&self.conn, self.policy)?.hlc)
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when the database is sound.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The local date (zone: [`Store::utc_offset_minutes`], WITA by default) of the device's
    /// corrected physical time.
    pub fn today(&self) -> Result<chrono::NaiveDate> {
        let hlc = self.hybrid_clock()?;
        Ok(crate::clock::local_date_at(
            hlc.physical_ms(self.clock.now_ms()),
            self.utc_offset_ms,
        ))
    }
}

/// The zone offset saved in `settings` (WITA when unset or unreadable).
pub(crate) fn zone_offset_ms(conn: &Connection) -> Result<i64> {
    use rusqlite::OptionalExtension;
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = 'utc_offset_minutes'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|v| v.parse::<i64>().ok())
        .filter(|m| (-720..=840).contains(m))
        .map_or(crate::clock::WITA_OFFSET_MS, |m| m * 60_000))
}

pub(crate) use writer::{Draft, load_state as writer_state, save_clock as save_clock_state};

/// Turns this connection's foreign-key checks on or off, only when that changes them: setting
/// the pragma, even to the value it has, makes SQLite prepare every cached statement again.
/// SQLite ignores it inside a transaction, so it is called between them.
///
/// Off only while pulled pages are applied (`apply.rs`: every child row's record is
/// registered in `records` before the row is written, the check each `REFERENCES records(id)`
/// makes is a second look-up of the same id); on for every other write.
pub(crate) fn set_foreign_keys(conn: &Connection, on: bool) -> Result<()> {
    let now: bool = conn
        .prepare_cached("PRAGMA foreign_keys")?
        .query_row([], |r| r.get(0))?;
    if now != on {
        conn.execute_batch(if on {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        })?;
    }
    Ok(())
}

/// A keyed connection with the store's pragmas, for `crate::testing`.
/// Made with the cipher settings of the stores of those versions (SQLCipher 4's defaults:
/// 4096-byte pages, HMAC-SHA512).
#[cfg(feature = "test-support")]
pub(crate) fn open_conn_for_tests(path: &Path, key: &DbKey) -> Result<Connection> {
    Ok(open::open_conn(path, key, open::Pages::New(CipherSettings::LEGACY), false)?.0)
}
