#![allow(dead_code, clippy::unwrap_used)]

use field_core::{
    HouseholdInput, KdfParams, LocalUser, ManualClock, OpenOptions, PersonInput, Store,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use sync_protocol::{DeviceId, UserId};

/// 2025-11-22 10:00 WITA.
pub const T0: u64 = 1_763_776_800_000;
pub const DAY: u64 = 86_400_000;
pub const POSYANDU: &str = "53.04.05.2001.P01";

pub fn user(name: &str) -> LocalUser {
    user_with_role(name, "kader")
}

pub fn user_with_role(name: &str, role: &str) -> LocalUser {
    LocalUser {
        user_id: UserId::new_v7(),
        username: name.to_string(),
        display_name: format!("{role} {name}"),
        role: role.into(),
    }
}

pub fn opts(clock: &ManualClock) -> OpenOptions {
    OpenOptions::default()
        .with_clock(Arc::new(clock.clone()))
        .with_kdf(KdfParams::INSECURE_FOR_TESTS)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: ManualClock,
    pub store: Store,
}

pub fn fixture() -> Fixture {
    fixture_with_role("kader")
}

/// A store whose user has `role` (`kader`, `bidan`, ...).
pub fn fixture_with_role(role: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = ManualClock::new(T0);
    let store = Store::create(
        &path,
        DeviceId::new_v7(),
        &user_with_role("maria", role),
        "258046",
        opts(&clock),
    )
    .unwrap();
    Fixture {
        dir,
        path,
        clock,
        store,
    }
}

pub fn reopen(path: &Path, clock: &ManualClock) -> Store {
    Store::unlock(path, "maria", "258046", opts(clock)).unwrap()
}

pub fn household() -> HouseholdInput {
    HouseholdInput {
        posyandu: POSYANDU.into(),
        kk_number: Some("5304050101200001".into()),
        head_name: "Yohanes Bria".into(),
        dusun: Some("Halilulik A".into()),
        rt: Some("001".into()),
        ..Default::default()
    }
}

pub fn person(name: &str, sex: &str, birth: &str) -> PersonInput {
    PersonInput {
        name: name.into(),
        sex: sex.into(),
        birth_date: birth.into(),
        ..Default::default()
    }
}

/// A household: father, mother, and a child born 2024-05-10 whose mother is member 1.
pub fn family(store: &mut Store) -> field_core::Registered {
    store
        .register_household(
            &household(),
            &[
                person("Yohanes Bria", "male", "1990-02-03"),
                person("Maria Goreti Hale", "female", "1994-07-21"),
                person("Fransiskus Bria", "male", "2024-05-10"),
            ],
            &[(2, 1)],
        )
        .unwrap()
}

/// The crash tests' kill points: a xorshift generator (`rand(n)` in `0..n`) seeded from
/// `JANGKAU_CRASH_SEED`, else the clock. The seed is printed under `label`, so a failure can
/// be replayed with `JANGKAU_CRASH_SEED=<seed>`.
pub fn crash_rand(label: &str) -> impl FnMut(u64) -> u64 {
    let seed = std::env::var("JANGKAU_CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{label}: seed {seed} (repeat with JANGKAU_CRASH_SEED={seed})");
    let mut seed = seed | 1;
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// Rows of `due_facts` (device migration V6) as `person|date|seq|kind|id|supersedes|body`, in key order.
pub fn due_facts_rows(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT person, date, seq, kind, id, supersedes, body FROM due_facts
             ORDER BY person, date, seq",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{}|{}|{}|{}|{}|{}|{}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?.unwrap_or_else(|| "-".into()),
            r.get::<_, Option<String>>(6)?
                .unwrap_or_else(|| "NULL".into()),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The server's answer refusing every change of `pending` with `clock_ahead` (each is
/// re-stamped by the store), the server's clock at `server_time`.
pub fn all_clock_ahead(
    pending: &[sync_protocol::Change],
    server_time: u64,
) -> sync_protocol::PushResponse {
    use sync_protocol::{Outcome, RejectCode, Rejection};
    sync_protocol::PushResponse {
        v: 1,
        outcomes: pending
            .iter()
            .map(|c| {
                Outcome::rejected(c.seq, Rejection::new(RejectCode::ClockAhead, "ahead", None))
            })
            .collect(),
        acked_seq: 0,
        server_time,
    }
}
