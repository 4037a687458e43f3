//! Growth z-score throughput. Target: at least 1,000,000 z-scores per second.
//!
//! Run: `cargo bench -p health-rules --bench growth`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use health_rules::Sex;
use health_rules::growth::{
    Indicator, Measures, Position, assess_at_age, weight_for_age_z, zscore, zscore_for_length,
};

/// 1,000 deterministic inputs spread over ages, sexes and weights.
fn inputs() -> Vec<(Sex, u32, f64)> {
    (0..1000u32)
        .map(|i| {
            let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
            let age = (i * 7919) % 1857;
            let weight = 2.0 + f64::from((i * 104_729) % 2500) / 100.0;
            (sex, age, weight)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let data = inputs();
    let mut g = c.benchmark_group("growth");
    g.throughput(Throughput::Elements(data.len() as u64));

    g.bench_function("weight_for_age_z x1000", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for &(sex, age, w) in &data {
                sum +=
                    weight_for_age_z(black_box(sex), black_box(age), black_box(w)).unwrap_or(0.0);
            }
            sum
        })
    });

    g.bench_function("length_height_for_age z x1000 (who2006+who2007)", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for &(sex, age, w) in &data {
                let age = age * 3; // reaches into the interpolated WHO 2007 reference
                let h = 45.0 + w * 3.0;
                sum += zscore(
                    Indicator::LengthHeightForAge,
                    black_box(sex),
                    black_box(age),
                    black_box(h),
                )
                .unwrap_or(0.0);
            }
            sum
        })
    });

    g.bench_function("weight_for_length z x1000 (interpolated)", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for &(sex, age, w) in &data {
                let len = 45.0 + f64::from(age % 650) / 10.0 + 0.05;
                sum += zscore_for_length(
                    Indicator::WeightForLength,
                    black_box(sex),
                    black_box(len),
                    black_box(w),
                )
                .unwrap_or(0.0);
            }
            sum
        })
    });

    g.bench_function("assess (wfa, lhfa, wfl/wfh, bfa, hcfa, acfa) x1000", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for &(sex, age, w) in &data {
                let m = Measures {
                    weight_kg: Some(w),
                    length_height_cm: Some(50.0 + w * 2.5),
                    position: Some(Position::Lying),
                    head_cm: Some(35.0 + w / 2.0),
                    muac_cm: Some(10.0 + w / 5.0),
                    oedema: false,
                };
                if let Ok(a) = assess_at_age(black_box(sex), black_box(age), &m) {
                    n += usize::from(a.wfa.is_some());
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
