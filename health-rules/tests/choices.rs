//! The choices made without a primary text (docs/health-rules.md, "Choices made without a
//! primary text"), one row each with the source used: a change of a table shows up here.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::immunisation::{Offset, Schedule};
use health_rules::kms::{OrangeLine, kbm_table};
use health_rules::pregnancy::{DEFAULT_ANC_ID, Trimester, anc_schedule, gestational_age};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// KBM rows after month 6 (Buku KIA's table ends at 24 months; the last row repeats).
#[test]
fn kbm_after_month_six() {
    let t = kbm_table("kbm-buku-kia-v1").unwrap();
    // (source of the row, age in months, minimum gain in g)
    let rows = [
        ("Buku KIA KBM: month 6", 6, 400),
        ("Buku KIA KBM: months 7-11", 7, 300),
        ("Buku KIA KBM: months 7-11", 11, 300),
        ("Buku KIA KBM: months 12-24", 12, 200),
        ("Buku KIA KBM: months 12-24", 24, 200),
        ("ours: the last row repeated (extend_last_row)", 25, 200),
        ("ours: the last row repeated (extend_last_row)", 59, 200),
    ];
    for (source, months, gain) in rows {
        assert_eq!(
            t.min_gain_g(months),
            Some(gain),
            "{source}: {months} months"
        );
    }
    assert!(t.extend_last_row);
}

/// The orange line: weight-for-age z above +1 (Permenkes 2/2020's "risiko berat badan lebih").
#[test]
fn orange_line_position() {
    let line = OrangeLine::buku_kia_2020();
    // (source, z, above the line)
    let rows = [
        ("Permenkes 2/2020: BB/U > +1 SD", 1.01, Some(true)),
        (
            "Permenkes 2/2020: +1 SD itself is not above",
            1.0,
            Some(false),
        ),
        (
            "rounded to 2 decimals before the comparison",
            1.004,
            Some(false),
        ),
        ("no z, no answer", f64::NAN, None),
    ];
    for (source, z, want) in rows {
        assert_eq!(line.check(Some(z)), want, "{source}");
    }
    assert_eq!(line.wfa_z, 1.0);
    assert!(line.source.contains("Permenkes 2/2020"));
}

fn limits(id: &str) -> (Offset, Option<Offset>) {
    let dose = Schedule::national_2024().dose(id).unwrap();
    (dose.on_time_before, dose.allowed_before)
}

const fn months(m: u32) -> Offset {
    Offset { months: m, days: 0 }
}

/// PCV and rotavirus catch-up limits, HB0's last day: the national 2024 table's ages.
#[test]
fn catch_up_limits_and_hb0() {
    // (source of the row, dose, on time before, allowed before)
    let rows = [
        (
            "national 2024: PCV1 until 24 months",
            "PCV1",
            months(3),
            Some(months(24)),
        ),
        (
            "national 2024: PCV2 until 24 months",
            "PCV2",
            months(4),
            Some(months(24)),
        ),
        (
            "national 2024: PCV3 (lanjutan) until 24 months",
            "PCV3",
            months(13),
            Some(months(24)),
        ),
        (
            "national 2024: every RV dose before 6 months 30 days (last day 6 months 29 days)",
            "RV1",
            months(3),
            Some(Offset {
                months: 6,
                days: 30,
            }),
        ),
        (
            "national 2024: RV3 same limit",
            "RV3",
            months(5),
            Some(Offset {
                months: 6,
                days: 30,
            }),
        ),
        (
            "Buku KIA HB0 < 24 jam: day 0 and day 1 on time (no birth time), allowed to day 7",
            "HB0",
            Offset { months: 0, days: 2 },
            Some(Offset { months: 0, days: 8 }),
        ),
    ];
    for (source, id, on_time, allowed) in rows {
        assert_eq!(limits(id), (on_time, allowed), "{source}");
    }
    // HB0's last on-time day for a child born 2026-01-31 is 2026-02-01.
    let (on_time, _) = limits("HB0");
    assert_eq!(on_time.from(d("2026-01-31")), Some(d("2026-02-02")));
}

/// Trimester boundaries: "> 12 weeks" and "> 24 weeks" in exact time (days 85 and 169).
#[test]
fn trimester_boundaries() {
    let s = anc_schedule(DEFAULT_ANC_ID).unwrap();
    // (source of the row, day after HPHT, trimester)
    let rows = [
        (
            "Permenkes 21/2021 0-12 weeks: day 84 (12 weeks 0 days)",
            84,
            Trimester::First,
        ),
        (
            "Permenkes 21/2021 > 12 weeks: day 85",
            85,
            Trimester::Second,
        ),
        (
            "Permenkes 21/2021 12-24 weeks: day 168 (24 weeks 0 days)",
            168,
            Trimester::Second,
        ),
        (
            "Permenkes 21/2021 > 24 weeks: day 169",
            169,
            Trimester::Third,
        ),
    ];
    let hpht = d("2026-01-01");
    for (source, day, tri) in rows {
        let on = hpht + chrono::Days::new(day);
        assert_eq!(
            s.trimester(gestational_age(hpht, on).unwrap()),
            tri,
            "{source}"
        );
    }
    assert_eq!((s.trimester2_from_days, s.trimester3_from_days), (85, 169));
}
