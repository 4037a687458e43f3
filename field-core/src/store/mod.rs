//! The encrypted store: creating, unlocking, users, and the write path every change takes.

mod open;
mod writer;

pub use open::OpenOptions;
pub(crate) use writer::Writer;

use crate::clock::Clock;
use crate::error::Result;
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

    /// Removes another user's access to this tablet.
    pub fn remove_user(&mut self, username: &str) -> Result<()> {
        let path = Keyring::path_for(&self.path);
        let mut ring = Keyring::load(&path)?;
        ring.remove_user(username)?;
        ring.save(&path)
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

    /// The WITA date of the device's corrected physical time.
    pub fn today(&self) -> Result<chrono::NaiveDate> {
        let hlc = self.hybrid_clock()?;
        Ok(crate::clock::local_date(
            hlc.physical_ms(self.clock.now_ms()),
        ))
    }
}

pub(crate) use writer::{Draft, load_state as writer_state, save_clock as save_clock_state};
