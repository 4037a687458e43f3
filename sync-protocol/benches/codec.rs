//! Encode+compress and decompress+decode a batch of 1,000 typical posyandu changes
//! (persons, visits, weights, lengths/heights, immunisations).
//!
//! Run: `cargo bench -p sync-protocol --bench codec`. It first prints the wire sizes.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group};
use std::hint::black_box;
use sync_protocol::sample::{SampleRng, measurements, posyandu_day};
use sync_protocol::{
    DeviceId, Encoding, Limits, PROTOCOL_VERSION, PushRequest, UserId, decode, encode,
};

fn batch(changes: Vec<sync_protocol::Change>) -> PushRequest {
    PushRequest {
        v: PROTOCOL_VERSION,
        changes,
    }
}

fn ids() -> (DeviceId, UserId) {
    let mut rng = SampleRng::new(7);
    (
        DeviceId(rng.uuid7(1_700_000_000_000)),
        UserId(rng.uuid7(1_700_000_000_000)),
    )
}

fn report_sizes() {
    let (device, author) = ids();
    let day = batch(posyandu_day(1, device, author, 1, 1_000));
    let meas = batch(measurements(2, device, author, 1_000));
    println!("wire sizes for 1,000 changes (bytes per change):");
    for (name, b) in [("posyandu day (mixed)", &day), ("measurements only", &meas)] {
        let raw = encode(b, Encoding::Identity).unwrap().len();
        let zstd = encode(b, Encoding::Zstd).unwrap().len();
        let gzip = encode(b, Encoding::Gzip).unwrap().len();
        println!(
            "  {name:<22} json {:>6.1}  zstd {:>5.1}  gzip {:>5.1}",
            raw as f64 / 1000.0,
            zstd as f64 / 1000.0,
            gzip as f64 / 1000.0
        );
    }
}

fn codec(c: &mut Criterion) {
    let (device, author) = ids();
    let day = batch(posyandu_day(1, device, author, 1, 1_000));
    let limits = Limits::default();
    let mut g = c.benchmark_group("posyandu_batch_1000");
    g.throughput(Throughput::Elements(1_000));
    for enc in [Encoding::Zstd, Encoding::Gzip] {
        let name = enc.header_value().unwrap_or("identity");
        let bytes = encode(&day, enc).unwrap();
        g.bench_function(format!("encode_{name}"), |b| {
            b.iter(|| encode(black_box(&day), enc).unwrap())
        });
        g.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| decode::<PushRequest>(black_box(&bytes), enc, &limits).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, codec);

fn main() {
    report_sizes();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
