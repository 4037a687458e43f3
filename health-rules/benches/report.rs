//! The whole monthly posyandu report (F1/SKDN) for 150 under-fives with a year of
//! monthly weighings. Target: under 5 ms. Data are generated deterministically (LCG).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{Days, Months, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use health_rules::Sex;
use health_rules::kms::{DEFAULT_KBM_ID, RedLine, Weighing, YearMonth, kbm_table};
use health_rules::report::{BreastfeedingRecord, ReportChild, monthly_report, to_csv};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

const MONTH: YearMonth = YearMonth {
    year: 2026,
    month: 8,
};

fn posyandu(n: usize) -> Vec<ReportChild> {
    let mut rng = Lcg(2026);
    let end = MONTH.last_day().unwrap();
    (0..n)
        .map(|_| {
            let birth = end - Days::new(rng.next(59 * 30));
            let mut weight = 2800 + rng.next(800) as u32;
            let mut weighings = Vec::new();
            for back in (0..12u32).rev() {
                let first = MONTH.first_day().unwrap() - Months::new(back);
                let date = first + Days::new(rng.next(28));
                weight += rng.next(700) as u32;
                // About one month in seven missed.
                if date < birth || rng.next(7) == 0 {
                    continue;
                }
                let z = (rng.next(600) as f64 - 400.0) / 100.0;
                weighings.push(Weighing {
                    date,
                    weight_g: weight,
                    wfa_z: Some(z),
                });
            }
            ReportChild {
                birth_date: birth,
                sex: if rng.next(2) == 0 {
                    Sex::Male
                } else {
                    Sex::Female
                },
                has_kms: rng.next(10) != 0,
                weighings,
                vitamin_a: vec![NaiveDate::from_ymd_opt(2026, 8, 10).unwrap()],
                breastfeeding: vec![BreastfeedingRecord {
                    month: MONTH,
                    exclusive: rng.next(2) == 0,
                }],
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let children = posyandu(150);
    let kbm = kbm_table(DEFAULT_KBM_ID).unwrap();
    let red = RedLine::kms_2010();
    c.bench_function("f1_report_150_children_12_months", |b| {
        b.iter(|| {
            monthly_report(
                black_box("posyandu-1"),
                MONTH,
                black_box(&children),
                kbm,
                red,
            )
            .unwrap()
        })
    });
    c.bench_function("f1_report_150_children_12_months_with_csv", |b| {
        b.iter(|| {
            let r = monthly_report(
                black_box("posyandu-1"),
                MONTH,
                black_box(&children),
                kbm,
                red,
            )
            .unwrap();
            to_csv(&r)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
