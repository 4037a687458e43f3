//! Deterministic sample data: the changes of a typical posyandu day, for benchmarks and
//! load tests of every crate (the codec here, the server's ingest, the device simulator).

use crate::change::{Body, Change};
use crate::entity::EntityKind;
use crate::hlc::Hlc;
use crate::ids::{DeviceId, RecordId, UserId};
use serde_json::json;
use uuid::Uuid;

/// 2025-11-22 08:00 WITA, in milliseconds since the Unix epoch.
pub const DAY_START_MS: u64 = 1_763_769_600_000;

/// A small deterministic random source (splitmix64).
#[derive(Debug, Clone)]
pub struct SampleRng(u64);

impl SampleRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A UUIDv7 with the given time and random bits, as a device would make it.
    pub fn uuid7(&mut self, ms: u64) -> Uuid {
        let mut rand = [0u8; 10];
        rand[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        rand[8..].copy_from_slice(&self.next_u64().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
    }
}

/// One device's posyandu day: for each child a person update, a visit, a weight, a length or
/// height, and for some an immunisation, in the order a kader records them, until `n`
/// changes are made. `first_seq` lets a caller continue a device's sequence.
pub fn posyandu_day(
    seed: u64,
    device: DeviceId,
    author: UserId,
    first_seq: u64,
    n: usize,
) -> Vec<Change> {
    let mut rng = SampleRng::new(seed);
    let posyandu = format!(
        "53.04.{:02}.{:04}.P{:02}",
        rng.below(12) + 1,
        rng.below(2000) + 2001,
        rng.below(9) + 1
    );
    let session = RecordId(rng.uuid7(DAY_START_MS));
    let mut out = Vec::with_capacity(n);
    let mut ms = DAY_START_MS;
    let mut seq = first_seq;
    let mut child = 0u64;
    let vaccines = [
        "BCG",
        "OPV1",
        "DPT-HB-Hib 1",
        "PCV1",
        "RV1",
        "IPV1",
        "MR1",
        "PCV3",
    ];
    while out.len() < n {
        child += 1;
        let born_days_ago = 30 + rng.below(1_800);
        let person = RecordId(rng.uuid7(ms - 86_400_000 * born_days_ago));
        let visit = RecordId(rng.uuid7(ms));
        let age_months = rng.below(60);
        let mut push = |out: &mut Vec<Change>,
                        id: RecordId,
                        kind: EntityKind,
                        body: serde_json::Value,
                        ms: &mut u64| {
            *ms += 20_000 + rng_step(seq);
            let body: Body = body.as_object().cloned().unwrap_or_default();
            out.push(Change {
                id,
                kind,
                device,
                seq,
                hlc: Hlc {
                    wall_ms: *ms,
                    counter: 0,
                },
                author,
                schema: crate::schema::kind_since(kind),
                tombstone: false,
                supersedes: None,
                base: Default::default(),
                body,
            });
            seq += 1;
        };
        // The child's record is touched (a kader confirms the dusun and the KMS).
        push(
            &mut out,
            person,
            EntityKind::Person,
            json!({"has_kms": true, "rt": format!("{:02}", child % 9 + 1)}),
            &mut ms,
        );
        push(
            &mut out,
            visit,
            EntityKind::Visit,
            json!({"posyandu": posyandu, "person": person.to_string(), "session": session.to_string(), "type": "posyandu", "date": "2025-11-22"}),
            &mut ms,
        );
        let weight = 3.0 + age_months as f64 * 0.2 + rng.below(200) as f64 / 100.0;
        let wid = RecordId(rng.uuid7(ms));
        push(
            &mut out,
            wid,
            EntityKind::Measurement,
            json!({"posyandu": posyandu, "person": person.to_string(), "visit": visit.to_string(), "type": "weight", "value": (weight * 10.0).round() / 10.0, "unit": "kg"}),
            &mut ms,
        );
        let length = 50.0 + age_months as f64 * 1.1 + rng.below(60) as f64 / 10.0;
        let position = if age_months < 24 { "lying" } else { "standing" };
        let lid = RecordId(rng.uuid7(ms));
        push(
            &mut out,
            lid,
            EntityKind::Measurement,
            json!({"posyandu": posyandu, "person": person.to_string(), "visit": visit.to_string(), "type": "length_height", "value": (length * 10.0).round() / 10.0, "unit": "cm", "position": position}),
            &mut ms,
        );
        if rng.below(3) == 0 {
            let iid = RecordId(rng.uuid7(ms));
            let vaccine = vaccines[rng.below(vaccines.len() as u64) as usize];
            push(
                &mut out,
                iid,
                EntityKind::Immunisation,
                json!({"posyandu": posyandu, "person": person.to_string(), "visit": visit.to_string(), "vaccine": vaccine, "date": "2025-11-22"}),
                &mut ms,
            );
        }
    }
    out.truncate(n);
    out
}

/// Only measurement changes (weights and lengths), for the per-measurement wire size.
pub fn measurements(seed: u64, device: DeviceId, author: UserId, n: usize) -> Vec<Change> {
    let day = posyandu_day(seed, device, author, 1, n * 3);
    let mut out: Vec<Change> = day
        .into_iter()
        .filter(|c| c.kind == EntityKind::Measurement)
        .take(n)
        .collect();
    for (i, c) in out.iter_mut().enumerate() {
        c.seq = i as u64 + 1;
    }
    out
}

fn rng_step(seq: u64) -> u64 {
    (seq * 7919) % 15_000
}
