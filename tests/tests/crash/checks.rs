//! The exact end state after crashes: every change on the server exactly once, every outbox
//! empty, every device holding exactly the server's records, every database sound.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::device::CliDevice;

/// What identifies one change: record id, kind, device, HLC, tombstone.
pub type Key = (String, String, String, String, bool);

fn s(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

pub fn key(c: &Value) -> Key {
    (
        s(&c["id"]),
        s(&c["kind"]),
        s(&c["device"]),
        s(&c["hlc"]),
        c["tombstone"].as_bool().unwrap_or(false),
    )
}

fn few<T: std::fmt::Debug>(items: impl IntoIterator<Item = T>) -> String {
    let v: Vec<T> = items.into_iter().take(4).collect();
    format!("{v:?}")
}

/// Checks the end state. `devices` pairs each device with the number of changes it made;
/// `server_changes` is the server's whole change log for the area.
pub fn assert_converged(what: &str, server_changes: &[Value], devices: &[(&CliDevice, u64)]) {
    let mut ids = BTreeMap::new();
    for (d, created) in devices {
        let st = d.status();
        let id = s(&st["device_id"]);
        assert_eq!(
            st["waiting"], 0,
            "{what}: device {} still has changes waiting after its last sync: {st}",
            d.name
        );
        assert_eq!(
            st["rejected"], 0,
            "{what}: device {} has refused changes: {st}",
            d.name
        );
        assert_eq!(
            st["acked_seq"].as_u64(),
            Some(*created),
            "{what}: device {} made {created} changes but the server acknowledged up to {}",
            d.name,
            st["acked_seq"]
        );
        ids.insert(id, (d.name, *created));
    }

    // The server: each device's sequence numbers exactly 1..=created, once each.
    let mut seqs: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for c in server_changes {
        seqs.entry(s(&c["device"]))
            .or_default()
            .push(c["seq"].as_u64().unwrap_or(0));
    }
    for (dev, list) in &mut seqs {
        let Some((name, created)) = ids.get(dev) else {
            panic!(
                "{what}: the server holds {} changes of a device that is not in the test ({dev})",
                list.len()
            );
        };
        list.sort_unstable();
        let mut dups = Vec::new();
        for w in list.windows(2) {
            if w[0] == w[1] && dups.last() != Some(&w[0]) {
                dups.push(w[0]);
            }
        }
        let have: BTreeSet<u64> = list.iter().copied().collect();
        let missing: Vec<u64> = (1..=*created).filter(|q| !have.contains(q)).collect();
        let extra: Vec<u64> = have.iter().copied().filter(|q| *q > *created).collect();
        assert!(
            dups.is_empty() && missing.is_empty() && extra.is_empty(),
            "{what}: device {name} made changes 1..={created}; the server holds {} rows for it: \
             {} sequence numbers twice or more (e.g. {}), {} missing (e.g. {}), {} never made \
             (e.g. {})",
            list.len(),
            dups.len(),
            few(&dups),
            missing.len(),
            few(&missing),
            extra.len(),
            few(&extra)
        );
    }
    for (dev, (name, created)) in &ids {
        assert!(
            *created == 0 || seqs.contains_key(dev),
            "{what}: the server holds none of the {created} changes of device {name}"
        );
    }
    let total: u64 = devices.iter().map(|(_, n)| n).sum();
    assert_eq!(
        server_changes.len() as u64,
        total,
        "{what}: the server holds {} changes, the devices made {total}",
        server_changes.len()
    );
    let server: BTreeSet<Key> = server_changes.iter().map(key).collect();
    assert_eq!(
        server.len(),
        server_changes.len(),
        "{what}: the server holds the same (record, stamp) more than once"
    );

    // Each device: exactly the server's records, its own outbox numbered without gaps.
    for (d, created) in devices {
        let export = d.export();
        let keys: Vec<Key> = export.iter().map(key).collect();
        let set: BTreeSet<Key> = keys.iter().cloned().collect();
        assert_eq!(
            set.len(),
            keys.len(),
            "{what}: device {} exports {} lines but only {} distinct (record, stamp)s",
            d.name,
            keys.len(),
            set.len()
        );
        let me = ids
            .iter()
            .find(|(_, (n, _))| *n == d.name)
            .map(|(id, _)| id.clone())
            .unwrap_or_default();
        let mut own: Vec<u64> = export
            .iter()
            .filter(|c| s(&c["device"]) == me)
            .map(|c| c["seq"].as_u64().unwrap_or(0))
            .collect();
        own.sort_unstable();
        assert!(
            own.iter().copied().eq(1..=*created),
            "{what}: device {} exports {} own changes, expected seq 1..={created} (first: {}, \
             last: {:?})",
            d.name,
            own.len(),
            few(&own),
            own.last()
        );
        let missing: Vec<&Key> = server.difference(&set).collect();
        let extra: Vec<&Key> = set.difference(&server).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{what}: device {} holds {} records, the server {}: {} on the server only (e.g. \
             {}), {} on the device only (e.g. {})",
            d.name,
            set.len(),
            server.len(),
            missing.len(),
            few(&missing),
            extra.len(),
            few(&extra)
        );
        d.check_integrity();
    }
}
