//! The write path. Every local write is one IMMEDIATE transaction that validates each change,
//! applies it to the record tables with the same code as pulled changes, appends it to the
//! outbox with the next device sequence number and a fresh HLC stamp, and saves the clock.
//! Any error rolls the whole transaction back: nothing half-written.

use super::Store;
use crate::apply;
use crate::error::{Result, StoreError};
use crate::validate;
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sync_protocol::merge::MutableRecord;
use sync_protocol::schema::SCHEMA_VERSION;
use sync_protocol::{
    Body, Change, ClockPolicy, DeviceId, EntityKind, HybridClock, RecordId, UserId,
};

/// What `device_state` holds.
#[derive(Debug, Clone)]
pub(crate) struct DeviceState {
    pub next_seq: u64,
    pub hlc: HybridClock,
    pub last_pull_ms: Option<u64>,
    pub last_push_ms: Option<u64>,
}

pub(crate) fn load_state(conn: &Connection, policy: ClockPolicy) -> Result<DeviceState> {
    let (next_seq, last, observed, offset, pull, push): (
        i64,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
    ) = conn.query_row(
        "SELECT next_seq, hlc_last, hlc_max_observed, hlc_offset_ms, last_pull_ms, last_push_ms
         FROM device_state WHERE id = 1",
        [],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let last = crate::apply::parse_hlc(&last)?;
    let observed = crate::apply::parse_hlc(&observed)?;
    Ok(DeviceState {
        next_seq: u64::try_from(next_seq).map_err(|_| StoreError::Corrupt("next_seq".into()))?,
        hlc: HybridClock::restore(last, observed, offset, policy),
        last_pull_ms: pull.and_then(|v| u64::try_from(v).ok()),
        last_push_ms: push.and_then(|v| u64::try_from(v).ok()),
    })
}

pub(crate) fn save_clock(conn: &Connection, hlc: &HybridClock) -> Result<()> {
    conn.execute(
        "UPDATE device_state SET hlc_last = ?1, hlc_max_observed = ?2, hlc_offset_ms = ?3
         WHERE id = 1",
        params![
            hlc.last.to_string(),
            hlc.max_observed.to_string(),
            hlc.offset_ms
        ],
    )?;
    Ok(())
}

/// A draft of one change, before it has a sequence number and a stamp.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub id: RecordId,
    pub kind: EntityKind,
    pub body: Body,
    pub tombstone: bool,
    pub supersedes: Option<RecordId>,
}

impl Draft {
    pub fn new(kind: EntityKind, body: Body) -> Self {
        Self {
            id: RecordId::new_v7(),
            kind,
            body,
            tombstone: false,
            supersedes: None,
        }
    }
    pub fn edit(id: RecordId, kind: EntityKind, body: Body) -> Self {
        Self {
            id,
            kind,
            body,
            tombstone: false,
            supersedes: None,
        }
    }
}

/// An open write transaction.
pub(crate) struct Writer<'c> {
    pub tx: Transaction<'c>,
    hlc: HybridClock,
    next_seq: u64,
    wall_ms: u64,
    pub today: NaiveDate,
    today_s: String,
    device: DeviceId,
    author: UserId,
    pub written: Vec<Change>,
}

impl Writer<'_> {
    /// Validates, applies and queues one change. Returns its record id.
    pub fn push(&mut self, draft: Draft) -> Result<RecordId> {
        // A record holding changes of a newer body schema is read-only here: an edit made
        // without understanding them could overwrite what the newer app wrote.
        for id in std::iter::once(&draft.id).chain(draft.supersedes.as_ref()) {
            if apply::needs_newer_app(&self.tx, id)? {
                return Err(StoreError::NeedsNewerApp { id: *id });
            }
        }
        let exists = apply::record_kind(&self.tx, &draft.id)?;
        if let Some(existing) = &exists
            && existing != draft.kind.as_str()
        {
            return Err(StoreError::KindMismatch {
                id: draft.id,
                existing: existing.clone(),
                incoming: draft.kind,
            });
        }
        let creates = exists.is_none();
        let mut base = std::collections::BTreeMap::new();
        if draft.kind.class() == sync_protocol::Class::Mutable && !creates {
            let rec = apply::load_mutable(&self.tx, &draft.id, draft.kind)?;
            let seen = rec.seen_clock();
            if draft.tombstone {
                base = seen;
            } else {
                for f in draft.body.keys() {
                    if let Some(h) = seen.get(f) {
                        base.insert(f.clone(), *h);
                    }
                }
            }
        }
        // An edit's stamp is greater than every stamp it replaces.
        let hlc = match base.values().map(|b| b.hlc).max() {
            Some(after) => self.hlc.now_after(self.wall_ms, after),
            None => self.hlc.now(self.wall_ms),
        };
        let change = Change {
            id: draft.id,
            kind: draft.kind,
            device: self.device,
            seq: self.next_seq,
            hlc,
            author: self.author,
            schema: SCHEMA_VERSION,
            tombstone: draft.tombstone,
            supersedes: draft.supersedes,
            base,
            body: draft.body,
        };
        sync_protocol::schema::validate(&change, creates, &self.today_s)
            .map_err(|r| validate::from_rejection(&change, &r, &self.today_s))?;
        apply::apply_local(&self.tx, &change)?;
        let json = serde_json::to_string(&change)?;
        self.tx
            .prepare_cached(
                "INSERT INTO outbox (seq, record_id, kind, hlc, change_json, state, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
            )?
            .execute(params![
                i64::try_from(change.seq).map_err(|_| StoreError::Corrupt("seq".into()))?,
                change.id.to_string(),
                change.kind.as_str(),
                change.hlc.to_string(),
                json,
                i64::try_from(self.wall_ms).unwrap_or(i64::MAX),
            ])?;
        self.next_seq += 1;
        let id = change.id;
        self.written.push(change);
        Ok(id)
    }

    /// The merged state of a mutable record as this transaction sees it.
    pub fn mutable(&self, id: &RecordId, kind: EntityKind) -> Result<MutableRecord> {
        apply::load_mutable(&self.tx, id, kind)
    }
}

impl Store {
    /// Runs `f` in one write transaction; commits only if it returns `Ok`.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> Result<T>) -> Result<T> {
        let wall_ms = self.clock.now_ms();
        let author = self.user.user_id;
        // A first sync in bulk leaves them off between its pages (`apply.rs`); a local write
        // made while one is stopped half-way has them on again.
        super::set_foreign_keys(&self.conn, true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state = load_state(&tx, self.policy)?;
        let today = crate::clock::local_date_at(state.hlc.physical_ms(wall_ms), self.utc_offset_ms);
        let mut w = Writer {
            tx,
            hlc: state.hlc,
            next_seq: state.next_seq,
            wall_ms,
            today,
            today_s: today.format("%Y-%m-%d").to_string(),
            device: self.device,
            author,
            written: Vec::new(),
        };
        let out = f(&mut w)?;
        if !w.written.is_empty() {
            w.tx.execute(
                "UPDATE device_state SET next_seq = ?1 WHERE id = 1",
                params![i64::try_from(w.next_seq).map_err(|_| StoreError::Corrupt("seq".into()))?],
            )?;
            save_clock(&w.tx, &w.hlc)?;
        }
        w.tx.commit()?;
        Ok(out)
    }

    /// The last pull cursor saved with an applied page, for the logged-in user's scope
    /// (cursors are per scope: sync-protocol section 5).
    pub fn pull_cursor(&self) -> Result<Option<String>> {
        self.pull_cursor_for(&self.scope_key()?)
    }

    /// The last pull cursor saved for a scope key (see [`Store::scope_key`]); none when this
    /// scope has not pulled on this tablet yet. (`device_state.pull_cursor`, the one cursor of
    /// schema version 2, is no longer read: migration 3 carried it over to its scope when
    /// that scope is certain.)
    pub fn pull_cursor_for(&self, scope: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT cursor FROM pull_cursors WHERE scope = ?1")?
            .query_row([scope], |r| r.get(0))
            .optional()?)
    }

    /// The key of the logged-in user's scope for pull cursors: `<level>:<place>` (e.g.
    /// `posyandu:53.04.05.2001.P01`), or empty while the scope is unknown (no login yet).
    pub fn scope_key(&self) -> Result<String> {
        Ok(match self.scope()? {
            Some(s) => format!(
                "{}:{}",
                serde_json::to_value(s.level)?.as_str().unwrap_or_default(),
                s.place
            ),
            None => String::new(),
        })
    }

    pub(crate) fn state(&self) -> Result<DeviceState> {
        load_state(&self.conn, self.policy)
    }
}
