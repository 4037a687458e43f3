//! Any bytes, under any content encoding, as any request body: decoding never panics, and a
//! decoded push runs through the server's whole per-change judgement (schema, identity,
//! clock, role, scope) without panicking either.
#![no_main]

use district_server::sync::{PushContext, Prepared, plan};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use sync_protocol::codec::{Encoding, Limits, decode};
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
                }
            }
        }
        1 => {
            let _ = decode::<PullRequest>(body, encoding, &limits);
        }
        2 => {
            let _ = decode::<StatusRequest>(body, encoding, &limits);
        }
        3 => {
            let _ = decode::<EnrolRequest>(body, encoding, &limits);
        }
        _ => {
            let _ = decode::<LoginRequest>(body, encoding, &limits);
        }
    }
});

fn uuid_nil() -> uuid::Uuid {
    uuid::Uuid::nil()
}
