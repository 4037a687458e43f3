//! Helpers for tests and benchmarks (feature `test-support`): never in the app.

use crate::error::Result;
use crate::keyring::{DbKey, KdfParams, Keyring, LocalUser};
use crate::migrations;
use rusqlite::{Connection, params};
use std::path::Path;
use sync_protocol::{DeviceId, Hlc};

/// Creates an encrypted database at an earlier schema `version` (with its keyring, so that
/// [`crate::Store::unlock`] opens it and migrates it), and returns a keyed connection for the
/// test to seed rows as that version would hold them. At version ≥ 1 the device state and
/// the user's row are written.
pub fn create_at_version(
    path: &Path,
    device: DeviceId,
    user: &LocalUser,
    pin: &str,
    kdf: KdfParams,
    version: u32,
) -> Result<Connection> {
    let key = DbKey::random();
    let mut ring = Keyring {
        version: 2,
        users: Vec::new(),
    };
    ring.add_user(user, pin, &key, kdf)?;
    ring.save(&Keyring::path_for(path))?;
    let mut conn = crate::store::open_conn_for_tests(path, &key)?;
    migrations::migrate_to(&mut conn, version)?;
    if version >= 1 {
        conn.execute(
            "INSERT INTO device_state (id, device_id, next_seq, hlc_last, hlc_offset_ms)
             VALUES (1, ?1, 1, ?2, 0)",
            params![device.to_string(), Hlc::ZERO.to_string()],
        )?;
        conn.execute(
            "INSERT INTO users (id, username, display_name, role) VALUES (?1, ?2, ?3, ?4)",
            params![
                user.user_id.to_string(),
                user.username,
                user.display_name,
                user.role
            ],
        )?;
    }
    Ok(conn)
}

/// Fills the due lists' `due_facts` again from `facts` (migration V6's fill), in one
/// transaction: a test compares what the triggers left with it.
pub fn refill_due_facts(store: &crate::Store) -> Result<()> {
    let tx = store.connection().unchecked_transaction()?;
    migrations::refill_due_facts(&tx)?;
    tx.commit()?;
    Ok(())
}
