//! The titip size budget (bytes, so it is a test): a month of one posyandu (300 changes of
//! the sample data) sealed into one bundle costs at most 10 % more bytes than the same
//! changes pushed directly (zstd of the push body). Run with `--nocapture` for the figures.
#![allow(clippy::unwrap_used)]

use sync_protocol::relay::{self, KeyPair, RelayBundle};
use sync_protocol::sample::{SampleRng, posyandu_day};
use sync_protocol::{DeviceId, Encoding, PROTOCOL_VERSION, PushRequest, UserId, encode};

#[test]
fn a_sealed_month_is_within_ten_percent_of_a_direct_push() {
    let mut rng = SampleRng::new(11);
    let (device, author) = (
        DeviceId(rng.uuid7(1_700_000_000_000)),
        UserId(rng.uuid7(1_700_000_000_000)),
    );
    let server = KeyPair::from_bytes(&[1; 64]);
    let tablet = KeyPair::from_bytes(&[2; 64]);
    for seed in 1..=5 {
        let changes = posyandu_day(seed, device, author, 1, 300);
        let push = encode(
            &PushRequest {
                v: PROTOCOL_VERSION,
                changes: changes.clone(),
            },
            Encoding::Zstd,
        )
        .unwrap()
        .len();
        let bundle = RelayBundle {
            v: PROTOCOL_VERSION,
            device,
            user: author,
            cursor: Some("s123456.9f86d081".into()),
            changes,
        };
        let sealed = relay::seal_bundle(
            &bundle,
            1_763_800_000_000,
            &server.public(),
            &tablet,
            [7; 32],
        )
        .unwrap()
        .len();
        let ratio = sealed as f64 / push as f64;
        println!(
            "seed {seed}: push {push} B ({:.1} B/change), sealed bundle {sealed} B ({:.1} B/change), +{:.1} %",
            push as f64 / 300.0,
            sealed as f64 / 300.0,
            (ratio - 1.0) * 100.0
        );
        assert!(
            ratio <= 1.10,
            "seed {seed}: {sealed} B sealed vs {push} B pushed"
        );
    }
}
