//! Random and mutated bodies thrown at every decoding endpoint: the answer is always a 4xx
//! (or a 200 for a mutation that stays valid), never a 5xx, and the server keeps serving.
//! (`server/fuzz/` holds the cargo-fuzz target for the decoder itself.)

use crate::common::{Backend, MAWAR, TestServer, body_for};
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
