//! Random and mutated bodies thrown at every decoding endpoint: the answer is always a 4xx
//! (or a 200 for a mutation that stays valid), never a 5xx, and the server keeps serving.
//! (`server/fuzz/` holds the cargo-fuzz target for the decoder itself.)

use crate::common::{Backend, MAWAR, TestServer, body_for};
// (the first test runs on SQLite; the second on both backends)
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use sync_protocol::{EntityKind, RecordId};

const ENDPOINTS: [&str; 5] = [
    "/v1/enrol",
    "/v1/login",
    "/v1/sync/status",
    "/v1/sync/push",
    "/v1/sync/pull",
];
const ENCODINGS: [&str; 4] = ["identity", "zstd", "gzip", "deflate"];

#[test]
fn random_bodies_never_get_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (srv, mut k) = rt.block_on(async {
        let srv = TestServer::demo(Backend::Sqlite).await;
        let k = srv.session("kader.mawar").await;
        (srv, k)
    });
    let valid: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&json!({"v":1,"changes":[
            k.change(EntityKind::Measurement, RecordId::new_v7(), body_for(EntityKind::Measurement, MAWAR)),
            k.change(EntityKind::Person, RecordId::new_v7(), body_for(EntityKind::Person, MAWAR)),
        ]}))
        .unwrap(),
        br#"{"v":1,"limit":10,"cursor":"s0"}"#.to_vec(),
        br#"{"v":1,"last_seq":3,"app_version":"0.1.0"}"#.to_vec(),
        br#"{"v":1,"code":"AAA-BBB-CCC","device_name":"t","app_version":"1"}"#.to_vec(),
        br#"{"v":1,"username":"kader.mawar","secret":"x"}"#.to_vec(),
    ];
    let bearer = k.bearer.clone();
    let device = format!("Device {}", k.device_token);
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..ENDPOINTS.len(),
        0..ENCODINGS.len(),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512).prop_map(|b| (None, b)),
            (
                0..valid.len(),
                proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
            )
                .prop_map(|(i, muts)| (
                    Some(i),
                    muts.into_iter()
                        .flat_map(|(ix, b)| {
                            let ix = ix.index(1 << 16);
                            [
                                u8::try_from(ix >> 8).unwrap_or(0),
                                u8::try_from(ix & 0xff).unwrap_or(0),
                                b,
                            ]
                        })
                        .collect()
                )),
        ],
    );
    let result = runner.run(&strategy, |(ep, enc, (base, bytes))| {
        let body = match base {
            None => bytes,
            Some(i) => {
                let mut body = valid[i].clone();
                for m in bytes.chunks(3) {
                    if let [hi, lo, b] = m {
                        let at = (usize::from(*hi) << 8 | usize::from(*lo)) % body.len().max(1);
                        if let Some(x) = body.get_mut(at) {
                            *x = *b;
                        }
                    }
                }
                body
            }
        };
        let path = ENDPOINTS[ep];
        let auth = if path == "/v1/login" {
            &device
        } else {
            &bearer
        };
        let (status, _, answer) = rt.block_on(srv.raw(
            path,
            body,
            &[
                ("Authorization", auth),
                ("Content-Encoding", ENCODINGS[enc]),
            ],
        ));
        if status >= 500 {
            return Err(TestCaseError::fail(format!(
                "{path}: {status} {}",
                String::from_utf8_lossy(&answer)
            )));
        }
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_slice(&answer).map_err(|e| {
                TestCaseError::fail(format!("{path}: {status} without ErrorBody: {e}"))
            })?;
            prop_assert!(v["code"].is_string(), "{path}: {v}");
        }
        Ok(())
    });
    rt.block_on(async {
        let r = srv.http.get(srv.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        srv.finish().await;
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Random changes around the new limits (issue #12 items 1 and 6), pushed zstd-compressed
/// as a device sends them, and random small-request bodies around `small_body_bytes`: the
/// answer is never a 5xx; a change is accepted exactly when every string and list is within
/// its limit, the whole change within `MAX_CHANGE_BYTES` and `seq` within 2^53; a small
/// request over its limit is a 413 whatever its encoding.
#[test]
fn random_changes_around_the_limits() {
    use sync_protocol::codec::{Encoding, SMALL_BODY_BYTES, compress};
    use sync_protocol::schema::{
        MAX_ANSWER_ITEM_CHARS, MAX_ANSWER_KEY_CHARS, MAX_ANSWER_LIST, MAX_ANSWER_TEXT_CHARS,
        MAX_CHANGE_BYTES, MAX_SEQ, json_size,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (srv, k) = rt.block_on(async {
            let srv = TestServer::demo(backend).await;
            let k = srv.session("kader.mawar").await;
            (srv, k)
        });
        let k = std::cell::RefCell::new(k);
        let mut runner = TestRunner::new(Config {
            cases: 120,
            failure_persistence: None,
            ..Config::default()
        });
        // (answer text length, answer key length, list length, list item length, note
        // length, character width, seq past 2^53 or not, small body length, encoding)
        let strategy = (
            0usize..(MAX_ANSWER_TEXT_CHARS + 40),
            1usize..(MAX_ANSWER_KEY_CHARS + 8),
            0usize..(MAX_ANSWER_LIST + 4),
            0usize..(MAX_ANSWER_ITEM_CHARS + 10),
            1usize..2_100,
            prop_oneof![Just('a'), Just('é'), Just('😀'), Just('\u{1}')],
            prop_oneof![Just(0u64), 1u64..4, Just(u64::MAX - MAX_SEQ)],
            0usize..(2 * SMALL_BODY_BYTES),
            0usize..3,
        );
        let cases = std::cell::Cell::new(0u32);
        let result = runner.run(
            &strategy,
            |(text, key, list, item, note, ch, past, small, enc)| {
                cases.set(cases.get() + 1);
                let mut k = k.borrow_mut();
                let rep = |n: usize| std::iter::repeat_n(ch, n).collect::<String>();
                let mut answers = serde_json::Map::new();
                answers.insert("t".repeat(key), json!(rep(text)));
                answers.insert("list".into(), json!(vec![rep(item); list]));
                let mut body = body_for(EntityKind::Screening, MAWAR);
                body["answers"] = serde_json::Value::Object(answers);
                let mut screening = k.change(EntityKind::Screening, RecordId::new_v7(), body);
                let mut n = k.change(
                    EntityKind::Note,
                    RecordId::new_v7(),
                    json!({"posyandu": MAWAR, "text": rep(note)}),
                );
                if past > 0 {
                    screening.seq = MAX_SEQ + past;
                    n.seq = MAX_SEQ.saturating_add(past).saturating_add(1);
                    k.next_seq -= 2;
                }
                let within = |c: &sync_protocol::Change, fields_ok: bool| {
                    fields_ok && json_size(c) <= MAX_CHANGE_BYTES && c.seq <= MAX_SEQ
                };
                let s_ok = within(
                    &screening,
                    text <= MAX_ANSWER_TEXT_CHARS
                        && key <= MAX_ANSWER_KEY_CHARS
                        && list <= MAX_ANSWER_LIST
                        && (list == 0 || item <= MAX_ANSWER_ITEM_CHARS),
                );
                let n_ok = within(&n, note <= 2_000);
                let json = serde_json::to_vec(&json!({"v":1,"changes":[screening, n]})).unwrap();
                let z = compress(&json, Encoding::Zstd).unwrap();
                let (status, _, answer) = rt.block_on(srv.raw(
                    "/v1/sync/push",
                    z,
                    &[("Authorization", &k.bearer), ("Content-Encoding", "zstd")],
                ));
                prop_assert!(status < 500, "push: {status}");
                if status == 200 {
                    let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
                    let got: Vec<bool> = v["outcomes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|o| o["status"] == "accepted")
                        .collect();
                    prop_assert_eq!(got, vec![s_ok, n_ok], "{}", v);
                } else {
                    prop_assert_eq!(
                        status,
                        413,
                        "only a body over the push limit is refused whole"
                    );
                }
                // A small request of `small` bytes of JSON, in one of three encodings.
                let username = "u".repeat(small.saturating_sub(40));
                let login = format!(r#"{{"v":1,"username":"{username}","secret":"x"}}"#);
                let encoding = [Encoding::Identity, Encoding::Zstd, Encoding::Gzip][enc];
                let bytes = compress(login.as_bytes(), encoding).unwrap();
                let device = format!("Device {}", k.device_token);
                let mut headers = vec![("Authorization", device.as_str())];
                if let Some(h) = encoding.header_value() {
                    headers.push(("Content-Encoding", h));
                }
                let (status, _, _) = rt.block_on(srv.raw("/v1/login", bytes, &headers));
                if login.len() > SMALL_BODY_BYTES {
                    prop_assert_eq!(status, 413, "{} bytes", login.len());
                } else {
                    prop_assert!(status == 401 || status == 429, "{status}");
                }
                Ok(())
            },
        );
        println!(
            "{backend:?}: {} random cases around the limits",
            cases.get()
        );
        rt.block_on(srv.finish());
        if let Err(e) = result {
            panic!("{backend:?}: {e}");
        }
    }
}
