//! Builders shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use serde_json::{Value, json};
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, UserId};
use uuid::Uuid;

pub const T0: u64 = 1_763_800_000_000;

pub fn uuid7(ms: u64, a: u64) -> Uuid {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&a.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

pub fn rid(n: u64) -> RecordId {
    RecordId(uuid7(T0, n))
}

pub fn dev(n: u64) -> DeviceId {
    DeviceId(uuid7(T0, 0xd000 + n))
}

pub fn user(n: u64) -> UserId {
    UserId(uuid7(T0, 0xe000 + n))
}

pub fn hlc(ms_after_t0: u64) -> Hlc {
    Hlc::new(T0 + ms_after_t0, 0).unwrap()
}

/// The stamp of device `d`'s edit at time `t`.
pub fn stamp(d: u64, t: u64) -> sync_protocol::Stamp {
    sync_protocol::Stamp {
        hlc: hlc(t),
        device: dev(d),
    }
}

/// An edit of a mutable record by device `d` at time `t`, setting `fields`, having seen
/// `base`: (field, device, time) of each edit it replaced.
pub fn edit(
    id: RecordId,
    kind: EntityKind,
    d: u64,
    seq: u64,
    t: u64,
    fields: &[(&str, Value)],
    base: &[(&str, u64, u64)],
) -> Change {
    Change {
        id,
        kind,
        device: dev(d),
        seq,
        hlc: hlc(t),
        author: user(d),
        schema: sync_protocol::schema::kind_since(kind),
        tombstone: false,
        supersedes: None,
        base: base
            .iter()
            .map(|(f, d, t)| (f.to_string(), stamp(*d, *t)))
            .collect(),
        body: fields
            .iter()
            .map(|(f, v)| (f.to_string(), v.clone()))
            .collect(),
    }
}

pub fn tombstone(
    id: RecordId,
    kind: EntityKind,
    d: u64,
    seq: u64,
    t: u64,
    seen: &[(&str, u64, u64)],
) -> Change {
    let mut c = edit(id, kind, d, seq, t, &[], seen);
    c.tombstone = true;
    c
}

pub fn fact(id: RecordId, kind: EntityKind, d: u64, seq: u64, t: u64, body: Value) -> Change {
    let mut c = edit(id, kind, d, seq, t, &[], &[]);
    c.body = body.as_object().cloned().unwrap();
    c
}

/// A typical measurement change: a weighing of one child at a posyandu.
pub fn weighing(n: u64, person: RecordId, visit: RecordId, seq: u64, weight: f64) -> Change {
    fact(
        RecordId(uuid7(
            T0 + n * 50,
            0x5eed_0000 ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        )),
        EntityKind::Measurement,
        1,
        seq,
        n * 50,
        json!({"person": person.to_string(), "visit": visit.to_string(), "type": "weight", "value": weight, "unit": "kg"}),
    )
}
