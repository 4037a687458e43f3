//! Every change this tablet holds, as sync envelopes (for `jangkau export --format jsonl`).

use crate::error::{Result, StoreError};
use crate::store::Store;
use std::collections::BTreeMap;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, RecordId, Stamp, UserId};

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?}")))
}

fn hlc(s: &str) -> Result<Hlc> {
    parse(s, "hlc")
}

impl Store {
    /// Calls `out` with every change this tablet holds, as a sync envelope: this device's own
    /// changes exactly as in its outbox (pending or sent; changes the server refused for good
    /// are not records and are left out), then the changes received from other devices,
    /// rebuilt from the stored edits. A received change carries `seq: 0` (the tablet does not
    /// keep other devices' sequence numbers), and a received deletion of a fact carries the
    /// nil author (not kept either).
    pub fn export_changes(&self, mut out: impl FnMut(&Change) -> Result<()>) -> Result<usize> {
        let me = self.device.to_string();
        let mut n = 0;
        {
            let mut stmt = self
                .conn
                .prepare("SELECT change_json FROM outbox WHERE state != 'rejected' ORDER BY seq")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let c: Change = serde_json::from_str(&r.get::<_, String>(0)?)?;
                out(&c)?;
                n += 1;
            }
        }
        // Facts of other devices.
        {
            let mut stmt = self.conn.prepare(
                "SELECT id, kind, body_json, made_hlc, made_device, author, supersedes
                 FROM facts WHERE made_device != ?1 ORDER BY made_hlc, id",
            )?;
            let mut rows = stmt.query([&me])?;
            while let Some(r) = rows.next()? {
                let c = Change {
                    id: parse(&r.get::<_, String>(0)?, "id")?,
                    kind: parse_kind(&r.get::<_, String>(1)?)?,
                    device: parse(&r.get::<_, String>(4)?, "device")?,
                    seq: 0,
                    hlc: hlc(&r.get::<_, String>(3)?)?,
                    author: parse(&r.get::<_, String>(5)?, "author")?,
                    schema: sync_protocol::schema::SCHEMA_VERSION,
                    tombstone: false,
                    supersedes: r
                        .get::<_, Option<String>>(6)?
                        .map(|s| parse(&s, "supersedes"))
                        .transpose()?,
                    base: BTreeMap::new(),
                    body: serde_json::from_str(&r.get::<_, String>(2)?)?,
                };
                out(&c)?;
                n += 1;
            }
        }
        {
            let mut stmt = self.conn.prepare(
                "SELECT t.record_id, r.kind, t.hlc, t.device FROM fact_tombstones t
                 JOIN records r ON r.id = t.record_id WHERE t.device != ?1 ORDER BY t.hlc",
            )?;
            let mut rows = stmt.query([&me])?;
            while let Some(r) = rows.next()? {
                let c = Change {
                    id: parse(&r.get::<_, String>(0)?, "id")?,
                    kind: parse_kind(&r.get::<_, String>(1)?)?,
                    device: parse(&r.get::<_, String>(3)?, "device")?,
                    seq: 0,
                    hlc: hlc(&r.get::<_, String>(2)?)?,
                    author: UserId(uuid::Uuid::nil()),
                    schema: sync_protocol::schema::SCHEMA_VERSION,
                    tombstone: true,
                    supersedes: None,
                    base: BTreeMap::new(),
                    body: Body::new(),
                };
                out(&c)?;
                n += 1;
            }
        }
        // Edits of mutable records by other devices: one change per (record, stamp).
        {
            let mut stmt = self.conn.prepare(
                "SELECT e.record_id, r.kind, e.hlc, e.device, e.author, e.field, e.value_json,
                        e.base
                 FROM field_edits e JOIN records r ON r.id = e.record_id
                 WHERE e.device != ?1 ORDER BY e.hlc, e.device, e.record_id, e.field",
            )?;
            let mut rows = stmt.query([&me])?;
            let mut cur: Option<Change> = None;
            while let Some(r) = rows.next()? {
                let id: RecordId = parse(&r.get::<_, String>(0)?, "id")?;
                let h = hlc(&r.get::<_, String>(2)?)?;
                let device: DeviceId = parse(&r.get::<_, String>(3)?, "device")?;
                let same = cur
                    .as_ref()
                    .is_some_and(|c| c.id == id && c.hlc == h && c.device == device);
                if !same {
                    if let Some(c) = cur.take() {
                        out(&c)?;
                        n += 1;
                    }
                    cur = Some(Change {
                        id,
                        kind: parse_kind(&r.get::<_, String>(1)?)?,
                        device,
                        seq: 0,
                        hlc: h,
                        author: parse(&r.get::<_, String>(4)?, "author")?,
                        schema: sync_protocol::schema::SCHEMA_VERSION,
                        tombstone: false,
                        supersedes: None,
                        base: BTreeMap::new(),
                        body: Body::new(),
                    });
                }
                if let Some(c) = cur.as_mut() {
                    let field: String = r.get(5)?;
                    if let Some(b) = r.get::<_, Option<String>>(7)? {
                        c.base.insert(field.clone(), parse::<Stamp>(&b, "base")?);
                    }
                    c.body
                        .insert(field, serde_json::from_str(&r.get::<_, String>(6)?)?);
                }
            }
            if let Some(c) = cur.take() {
                out(&c)?;
                n += 1;
            }
        }
        {
            let mut stmt = self.conn.prepare(
                "SELECT t.record_id, r.kind, t.hlc, t.device, t.author, t.seen_json
                 FROM mutable_tombstones t JOIN records r ON r.id = t.record_id
                 WHERE t.device != ?1 ORDER BY t.hlc",
            )?;
            let mut rows = stmt.query([&me])?;
            while let Some(r) = rows.next()? {
                let c = Change {
                    id: parse(&r.get::<_, String>(0)?, "id")?,
                    kind: parse_kind(&r.get::<_, String>(1)?)?,
                    device: parse(&r.get::<_, String>(3)?, "device")?,
                    seq: 0,
                    hlc: hlc(&r.get::<_, String>(2)?)?,
                    author: parse(&r.get::<_, String>(4)?, "author")?,
                    schema: sync_protocol::schema::SCHEMA_VERSION,
                    tombstone: true,
                    supersedes: None,
                    base: serde_json::from_str(&r.get::<_, String>(5)?)?,
                    body: Body::new(),
                };
                out(&c)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn parse_kind(s: &str) -> Result<EntityKind> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| StoreError::Corrupt(format!("kind {s:?}")))
}
