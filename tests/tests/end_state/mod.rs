//! Checks of where a sync left things, shared by `faults.rs` and `slow_link.rs`: what the
//! server holds, what each tablet holds, and the server's push counters.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::{MAWAR, Server};
use std::collections::{BTreeMap, BTreeSet};
use sync_protocol::Change;
use system_tests::proxy::{Kind, MessageReader};
use tokio::io::AsyncWriteExt;

/// What survives the trip of a change: (record, stamp, body, base), as in `sync.rs`.
pub type Key = (String, String, String, String);

pub fn key(c: &Change) -> Key {
    let sorted = |m: Vec<(String, String)>| {
        let m: BTreeMap<_, _> = m.into_iter().collect();
        format!("{m:?}")
    };
    (
        c.id.to_string(),
        c.stamp().to_string(),
        sorted(
            c.body
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        ),
        sorted(
            c.base
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        ),
    )
}

/// Every change a store holds.
pub fn exported(store: &field_core::Store) -> Vec<Change> {
    let mut out = Vec::new();
    store
        .export_changes(|c| {
            out.push(c.clone());
            Ok(())
        })
        .unwrap();
    out
}

/// The keys of `changes`, asserting that none is there twice.
pub fn unique_keys(changes: &[Change], what: &str) -> BTreeSet<Key> {
    let keys: BTreeSet<Key> = changes.iter().map(key).collect();
    assert_eq!(keys.len(), changes.len(), "{what}: a change is there twice");
    keys
}

/// Every change the server holds for Posyandu Mawar, in server order, read from its storage.
pub async fn server_changes(server: &Server) -> Vec<Change> {
    let page = server
        .store
        .pull(MAWAR.to_string(), 0, 1_000_000)
        .await
        .unwrap();
    assert!(!page.has_more);
    page.changes
        .iter()
        .map(|(_, json)| serde_json::from_str(json).unwrap())
        .collect()
}

/// A counter of the server's `/metrics` (asked directly, not through any proxy).
pub async fn metric(server: &Server, name: &str) -> u64 {
    let mut c = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    c.write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let m = MessageReader::new()
        .next(&mut c, Kind::Response { to_head: false })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.head.status(), Some(200));
    let text = String::from_utf8_lossy(m.body_raw()).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// Waits (up to 10 s) until a server counter reaches at least `want`.
pub async fn at_least_metric(server: &Server, name: &str, want: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = metric(server, name).await;
        if got >= want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: {got} < {want}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits (up to 10 s) until a server counter reaches `want` (a request the proxy held back
/// may still be on its way), then checks it is exactly that.
pub async fn expect_metric(server: &Server, name: &str, want: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = metric(server, name).await;
        if got >= want || tokio::time::Instant::now() > deadline {
            assert_eq!(got, want, "{name}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The exact end state: the server holds each change in `made` once and nothing else; every
/// store holds exactly that set, each change once, with nothing waiting to go.
pub async fn assert_converged(
    server: &Server,
    made: &BTreeSet<Key>,
    stores: &[&field_core::Store],
) {
    let stored = server_changes(server).await;
    let on_server = unique_keys(&stored, "server");
    // The server also keeps each (device, seq) once (tablets number only their own).
    let ids: BTreeSet<(String, u64)> = stored
        .iter()
        .map(|c| (c.device.to_string(), c.seq))
        .collect();
    assert_eq!(
        ids.len(),
        stored.len(),
        "server: a (device, seq) is there twice"
    );
    assert_eq!(on_server.len(), made.len(), "changes on the server");
    assert!(
        on_server == *made,
        "the server holds exactly the changes made"
    );
    for (i, s) in stores.iter().enumerate() {
        let held = unique_keys(&exported(s), &format!("device {i}"));
        assert!(held == *made, "device {i} holds exactly the changes made");
        assert_eq!(s.sync_counts().unwrap().pending, 0, "device {i} outbox");
        assert!(s.pending_changes(10_000).unwrap().is_empty());
        assert_eq!(s.sync_counts().unwrap().rejected, 0, "device {i} refusals");
    }
    assert_eq!(
        metric(server, "jangkau_changes_accepted_total").await,
        made.len() as u64,
        "each change stored once"
    );
}
