//! The device's sync account, kept in the encrypted database: server address, device token,
//! sessions per user, revocation, last success and last error.
//!
//! The tables are created here (`CREATE TABLE IF NOT EXISTS`, on first use) rather than by a
//! numbered migration, so that the sync module stays self-contained; a later migration may
//! adopt them unchanged.

use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sync_protocol::{DeviceId, Scope};
use zeroize::Zeroizing;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS sync_account (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    server_url       TEXT NOT NULL,
    device_token     TEXT NOT NULL,
    device_name      TEXT NOT NULL,
    enrolled_ms      INTEGER NOT NULL,
    acked_seq        INTEGER NOT NULL DEFAULT 0,
    revoked_ms       INTEGER,
    revoked_message  TEXT,
    last_attempt_ms  INTEGER,
    last_success_ms  INTEGER,
    last_error_key   TEXT,
    last_error_message TEXT
);
CREATE TABLE IF NOT EXISTS sync_sessions (
    user_id       TEXT PRIMARY KEY,
    session_token TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    scope_json    TEXT
);";

pub(crate) fn ensure_tables(store: &Store) -> Result<()> {
    store.conn.execute_batch(TABLES)?;
    Ok(())
}

/// What the sync screen shows (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncState {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub device_id: DeviceId,
    pub device_name: Option<String>,
    /// Set when an admin revoked the device: syncing has stopped, the data is kept.
    pub revoked: Option<Revoked>,
    /// The server's `acked_seq` at the last push or status.
    pub acked_seq: u64,
    pub last_attempt_ms: Option<u64>,
    pub last_success_ms: Option<u64>,
    /// The message key and sentence of the last failed run (cleared by a successful one).
    pub last_error: Option<(String, String)>,
    /// When the logged-in user's session ends (none: log in to sync).
    pub session_expires_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revoked {
    pub at_ms: u64,
    pub message: String,
}

/// The secrets a sync run needs.
pub(crate) struct Credentials {
    pub server_url: String,
    pub device_token: Zeroizing<String>,
    pub revoked: Option<Revoked>,
}

fn u(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// The sync account as the app shows it.
    pub fn sync_state(&self) -> Result<SyncState> {
        ensure_tables(self)?;
        #[allow(clippy::type_complexity)]
        let row: Option<(
            String,
            String,
            i64,
            Option<i64>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
        )> = self
            .conn
            .query_row(
                "SELECT server_url, device_name, acked_seq, revoked_ms, revoked_message,
                        last_attempt_ms, last_success_ms, last_error_key, last_error_message
                 FROM sync_account WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                    ))
                },
            )
            .optional()?;
        let session = self.session()?.map(|(_, exp)| exp);
        Ok(match row {
            None => SyncState {
                enrolled: false,
                server_url: None,
                device_id: self.device,
                device_name: None,
                revoked: None,
                acked_seq: 0,
                last_attempt_ms: None,
                last_success_ms: None,
                last_error: None,
                session_expires_at: session,
            },
            Some((url, name, acked, rev_ms, rev_msg, attempt, success, ekey, emsg)) => SyncState {
                enrolled: true,
                server_url: Some(url),
                device_id: self.device,
                device_name: Some(name),
                revoked: u(rev_ms).map(|at_ms| Revoked {
                    at_ms,
                    message: rev_msg.unwrap_or_default(),
                }),
                acked_seq: u(Some(acked)).unwrap_or(0),
                last_attempt_ms: u(attempt),
                last_success_ms: u(success),
                last_error: ekey.map(|k| (k, emsg.unwrap_or_default())),
                session_expires_at: session,
            },
        })
    }

    /// Saves the device's enrolment (server address and device token) in the encrypted store.
    pub fn save_enrolment(
        &mut self,
        server_url: &str,
        device_token: &str,
        name: &str,
    ) -> Result<()> {
        ensure_tables(self)?;
        let now = self.clock.now_ms();
        self.conn.execute(
            "INSERT INTO sync_account (id, server_url, device_token, device_name, enrolled_ms)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET server_url = excluded.server_url,
                 device_token = excluded.device_token, device_name = excluded.device_name,
                 enrolled_ms = excluded.enrolled_ms, revoked_ms = NULL, revoked_message = NULL",
            params![server_url, device_token, name, i(now)],
        )?;
        Ok(())
    }

    /// Saves the logged-in user's session (token, expiry, scope).
    pub fn save_session(&mut self, token: &str, expires_at: u64, scope: &Scope) -> Result<()> {
        let user = self.user.user_id;
        self.save_user_session(user, token, expires_at, scope)
    }

    /// Saves the session (token, expiry, scope) of any user of this tablet: the one who
    /// unlocked it, or another one just added by [`super::SyncClient::add_user`].
    pub(crate) fn save_user_session(
        &mut self,
        user: sync_protocol::UserId,
        token: &str,
        expires_at: u64,
        scope: &Scope,
    ) -> Result<()> {
        ensure_tables(self)?;
        let scope = serde_json::to_string(scope)?;
        self.conn.execute(
            "INSERT INTO sync_sessions (user_id, session_token, expires_at, scope_json)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(user_id) DO UPDATE SET session_token = excluded.session_token,
                 expires_at = excluded.expires_at, scope_json = excluded.scope_json",
            params![user.to_string(), token, i(expires_at), scope],
        )?;
        self.conn.execute(
            "UPDATE users SET place = ?2 WHERE id = ?1",
            params![user.to_string(), scope],
        )?;
        Ok(())
    }

    /// Forgets the logged-in user's session (the next sync needs a login).
    pub fn clear_session(&mut self) -> Result<()> {
        ensure_tables(self)?;
        self.conn.execute(
            "DELETE FROM sync_sessions WHERE user_id = ?1",
            [self.user.user_id.to_string()],
        )?;
        Ok(())
    }

    /// The logged-in user's session token and its expiry.
    pub(crate) fn session(&self) -> Result<Option<(Zeroizing<String>, u64)>> {
        ensure_tables(self)?;
        Ok(self
            .conn
            .query_row(
                "SELECT session_token, expires_at FROM sync_sessions WHERE user_id = ?1",
                [self.user.user_id.to_string()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
            .map(|(t, e)| (Zeroizing::new(t), u(Some(e)).unwrap_or(0))))
    }

    pub(crate) fn credentials(&self) -> Result<Option<Credentials>> {
        ensure_tables(self)?;
        Ok(self
            .conn
            .query_row(
                "SELECT server_url, device_token, revoked_ms, revoked_message
                 FROM sync_account WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?
            .map(|(server_url, token, rev_ms, rev_msg)| Credentials {
                server_url,
                device_token: Zeroizing::new(token),
                revoked: u(rev_ms).map(|at_ms| Revoked {
                    at_ms,
                    message: rev_msg.unwrap_or_default(),
                }),
            }))
    }

    /// Remembers that the server revoked this device: syncing stops until it is enrolled
    /// again; nothing else changes.
    pub(crate) fn mark_revoked(&mut self, message: &str) -> Result<()> {
        let now = self.clock.now_ms();
        self.conn.execute(
            "UPDATE sync_account SET revoked_ms = ?1, revoked_message = ?2 WHERE id = 1",
            params![i(now), message],
        )?;
        Ok(())
    }

    pub(crate) fn record_attempt(&mut self, error: Option<(&str, &str)>) -> Result<()> {
        let now = i(self.clock.now_ms());
        match error {
            None => self.conn.execute(
                "UPDATE sync_account SET last_attempt_ms = ?1, last_success_ms = ?1,
                     last_error_key = NULL, last_error_message = NULL WHERE id = 1",
                [now],
            )?,
            Some((key, msg)) => self.conn.execute(
                "UPDATE sync_account SET last_attempt_ms = ?1, last_error_key = ?2,
                     last_error_message = ?3 WHERE id = 1",
                params![now, key, msg],
            )?,
        };
        Ok(())
    }

    pub(crate) fn set_acked_seq(&mut self, acked: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_account SET acked_seq = ?1 WHERE id = 1",
            [i(acked)],
        )?;
        Ok(())
    }

    /// The highest sequence number this device has written to its outbox (0 if none).
    pub(crate) fn last_seq(&self) -> Result<u64> {
        Ok(self.state()?.next_seq.saturating_sub(1))
    }

    /// Learns the server's clock from a `server_time` (saved at once).
    pub(crate) fn calibrate_clock(&mut self, server_time: u64) -> Result<()> {
        let wall = self.clock.now_ms();
        let policy = self.policy;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut state = crate::store::writer_state(&tx, policy)?;
        state.hlc.calibrate(server_time, wall);
        crate::store::save_clock_state(&tx, &state.hlc)?;
        tx.commit()?;
        Ok(())
    }
}

/// What erasing a revoked tablet's keys did, for the screen that tells the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// When the revocation reached this tablet, and the server's message.
    pub revoked: Revoked,
    /// Changes made on this tablet that had not reached the server: lost with the key.
    pub unsent: u64,
    /// How many users of this tablet had a sealed copy of the key (all erased).
    pub users: usize,
}

impl Store {
    /// The warning before a revoked tablet's keys are erased: when and why it was revoked,
    /// and how many changes never reached the server. `None` while the tablet is not revoked.
    pub fn revocation_notice(&self) -> Result<Option<(Revoked, u64)>> {
        let Some(revoked) = self.sync_state()?.revoked else {
            return Ok(None);
        };
        Ok(Some((revoked, self.sync_counts()?.pending)))
    }

    /// Erases the key material of a tablet the server revoked (a lost or stolen tablet, a
    /// kader who left): the sessions and device token inside the database, then every user's
    /// sealed copy of the database key (the keyring, overwritten with zeros, synced and
    /// deleted), the attempt counter, and the database files themselves, which nothing can
    /// decrypt any more. The store is consumed: its key leaves memory (zeroed on drop).
    ///
    /// Refused with [`StoreError::NotRevoked`] unless the server said `device_revoked`
    /// ([`Store::sync_state`]). The app shows [`Store::revocation_notice`] first; what a
    /// sync run could push before the server refused this device has been pushed, the rest
    /// ([`Erased::unsent`]) is lost. A tablet enrolled again starts empty and pulls its area.
    pub fn erase_revoked(self) -> Result<Erased> {
        let (revoked, unsent) = self.revocation_notice()?.ok_or(StoreError::NotRevoked)?;
        let db = self.path().to_path_buf();
        let ring_path = crate::keyring::Keyring::path_for(&db);
        let users = crate::keyring::Keyring::load(&ring_path)
            .map(|r| r.users.len())
            .unwrap_or(0);
        // Secrets inside the database first (a copy of the keyring made earlier would still
        // open a copy of the database, but no longer with a live token).
        self.conn.execute_batch(
            "DELETE FROM sync_sessions;
             UPDATE sync_account SET device_token = '' WHERE id = 1;",
        )?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        drop(self);
        crate::keyring::shred(&ring_path)?;
        crate::keyring::shred(&crate::keyring::attempts_path(&db))?;
        for suffix in ["-wal", "-shm", "-journal", ""] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(std::path::PathBuf::from(p)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        crate::keyring::sync_dir(&db);
        Ok(Erased {
            revoked,
            unsent,
            users,
        })
    }
}

impl From<rusqlite::Error> for super::SyncError {
    fn from(e: rusqlite::Error) -> Self {
        super::SyncError::Store(StoreError::Sqlite(e))
    }
}
