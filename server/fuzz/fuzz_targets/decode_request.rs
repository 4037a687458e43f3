//! Any bytes, under any content encoding, as any request body: decoding never panics, and a
//! decoded push runs through the server's whole per-change judgement (schema, identity,
//! clock, role, scope) without panicking either. The limits hold: a small request (enrol,
//! login, status, pull) never decodes past `SMALL_BODY_BYTES`; a change over
//! `MAX_CHANGE_BYTES` or with `seq` past 2^53 is never accepted; the rate-limit table stays
//! within its capacity whatever the key.
#![no_main]

use district_server::sync::{PushContext, Prepared, plan};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use district_server::auth::RateLimiter;
use sync_protocol::codec::{Encoding, Limits, SMALL_BODY_BYTES, decode, decompress};
use sync_protocol::schema::{MAX_CHANGE_BYTES, MAX_SEQ, json_size};
use sync_protocol::OutcomeStatus;
use sync_protocol::{
    ClockPolicy, DeviceId, EnrolRequest, LoginRequest, PullRequest, PushRequest, Role,
    StatusRequest, UserId,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let encoding = match selector % 3 {
        0 => Encoding::Identity,
        1 => Encoding::Zstd,
        _ => Encoding::Gzip,
    };
    let limits = Limits {
        max_compressed: 1 << 20,
        max_decompressed: 4 << 20,
        max_batch: 2_000,
    };
    let small = Limits::small(SMALL_BODY_BYTES);
    match (selector / 3) % 5 {
        0 => {
            if let Ok(push) = decode::<PushRequest>(body, encoding, &limits) {
                let device = push.changes.first().map_or(DeviceId(uuid_nil()), |c| c.device);
                let user = push.changes.first().map_or(UserId(uuid_nil()), |c| c.author);
                for role in [Role::Kader, Role::Bidan, Role::DinasAdmin] {
                    let ctx = PushContext {
                        device,
                        user,
                        role,
                        scope_posyandu: ["53.04.05.2001.P01".to_string()].into_iter().collect(),
                        now_ms: 1_763_800_000_000,
                        today: "2025-11-22".into(),
                        clock: ClockPolicy::default(),
                    };
                    let batch: Vec<Prepared> =
                        push.changes.iter().cloned().map(Prepared::new).collect();
                    let decided = plan(
                        &ctx,
                        &batch,
                        HashMap::new(),
                        HashMap::new(),
                        &HashMap::new(),
                        &[],
                    );
                    assert_eq!(decided.outcomes.len(), batch.len());
                    for (c, o) in push.changes.iter().zip(&decided.outcomes) {
                        if json_size(c) > MAX_CHANGE_BYTES || c.seq > MAX_SEQ {
                            assert_eq!(o.status, OutcomeStatus::Rejected, "{}", c.seq);
                        }
                    }
                }
            }
        }
        1 => {
            let _ = decode::<PullRequest>(body, encoding, &small);
        }
        2 => {
            let _ = decode::<StatusRequest>(body, encoding, &small);
        }
        3 => {
            let _ = decode::<EnrolRequest>(body, encoding, &small);
        }
        _ => {
            let _ = decode::<LoginRequest>(body, encoding, &small);
        }
    }
    // The small limits hold for any bytes under any encoding.
    if let Ok(json) = decompress(body, encoding, &small) {
        assert!(json.len() <= SMALL_BODY_BYTES);
    }
    // Any key, however long, costs one bounded slot.
    let limiter = RateLimiter::with_capacity(2, std::time::Duration::from_secs(60), 8);
    for chunk in body.chunks(1 + usize::from(selector % 16)) {
        let _ = limiter.hit(&String::from_utf8_lossy(chunk));
        assert!(limiter.len() <= 8);
    }
});

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::nil()
}
