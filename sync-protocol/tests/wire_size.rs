//! The wire-size budget (bytes, not time, so it is a test): at most 60 bytes per measurement
//! change compressed with zstd in a batch of 1,000.
#![allow(clippy::unwrap_used)]

use sync_protocol::sample::{SampleRng, measurements, posyandu_day};
use sync_protocol::{DeviceId, Encoding, PROTOCOL_VERSION, PushRequest, UserId, encode};

#[test]
fn a_measurement_change_costs_at_most_60_bytes_on_the_wire() {
    let mut rng = SampleRng::new(7);
    let (device, author) = (
        DeviceId(rng.uuid7(1_700_000_000_000)),
        UserId(rng.uuid7(1_700_000_000_000)),
    );
    for seed in 1..=5 {
        let meas = PushRequest {
            v: PROTOCOL_VERSION,
            changes: measurements(seed, device, author, 1_000),
        };
        assert_eq!(meas.changes.len(), 1_000);
        let bytes = encode(&meas, Encoding::Zstd).unwrap().len();
        assert!(
            bytes <= 60_000,
            "seed {seed}: {} bytes per measurement",
            bytes as f64 / 1000.0
        );
        let day = PushRequest {
            v: PROTOCOL_VERSION,
            changes: posyandu_day(seed, device, author, 1, 1_000),
        };
        let bytes = encode(&day, Encoding::Zstd).unwrap().len();
        assert!(
            bytes <= 60_000,
            "seed {seed}: {} bytes per change",
            bytes as f64 / 1000.0
        );
    }
}
