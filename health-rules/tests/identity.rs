//! NIK and No KK as case tables.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::identity::{NikMismatch, check_nik, parse_nik, parse_no_kk};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const REFERENCE: &str = "2026-11-23";

#[test]
fn good_niks() {
    // (NIK, sex, birth date resolved against REFERENCE, region)
    let cases = [
        ("5304015708900001", Sex::Female, "1990-08-17", "53.04.01"), // woman: day 17 + 40
        ("5304011708900002", Sex::Male, "1990-08-17", "53.04.01"),
        ("5304124101240003", Sex::Female, "2024-01-01", "53.04.12"), // day 1 + 40
        ("5304127112990004", Sex::Female, "1999-12-31", "53.04.12"),
        ("3174052902000005", Sex::Male, "2000-02-29", "31.74.05"), // leap day, year 00
        ("5304016902040006", Sex::Female, "2004-02-29", "53.04.01"),
        ("5304012512260007", Sex::Male, "1926-12-25", "53.04.01"), // 2026-12-25 is after the reference
        ("5304012311260008", Sex::Male, "2026-11-23", "53.04.01"), // on the reference day
        (" 5304011708900002 ", Sex::Male, "1990-08-17", "53.04.01"), // spaces around
    ];
    for (nik, sex, birth, region) in cases {
        let n = parse_nik(nik).unwrap();
        assert_eq!(n.sex, sex, "{nik}");
        assert_eq!(n.birth_date(d(REFERENCE)), Some(d(birth)), "{nik}");
        assert_eq!(n.region.dotted(), region, "{nik}");
    }
    assert!(parse_nik("5304015708900001").unwrap().region.is_belu());
    assert!(!parse_nik("3174052902000005").unwrap().region.is_belu());
}

#[test]
fn bad_niks() {
    // (NIK, error key)
    let cases = [
        ("", "nik.bad_length"),
        ("530401570890001", "nik.bad_length"),   // 15
        ("53040157089000011", "nik.bad_length"), // 17
        // Spaces are not counted (finding 19): 15 digits with a space is 15 digits.
        ("5304 01570890001", "nik.bad_length"),
        ("5304 0157 0890 00011", "nik.bad_length"),
        ("53040157089O0001", "nik.not_digits"),  // letter O
        ("5304015708９00001", "nik.not_digits"), // full-width digit
        ("53.04.01.570890.0001", "nik.bad_length"),
        ("0004015708900001", "nik.bad_region"),
        ("5300015708900001", "nik.bad_region"),
        ("5304005708900001", "nik.bad_region"),
        ("5304013102900001", "nik.bad_birth_date"), // 31 Feb
        ("5304017102900001", "nik.bad_birth_date"), // woman, 31 Feb
        ("5304012902010001", "nik.bad_birth_date"), // 29 Feb 2001: not a leap year
        ("5304010113900001", "nik.bad_birth_date"), // month 13
        ("5304010001900001", "nik.bad_birth_date"), // day 00
        ("5304014001900001", "nik.bad_birth_date"), // day 40 (neither 1–31 nor 41–71)
        ("5304017201900001", "nik.bad_birth_date"), // day 72 = 32
        ("5304013104900001", "nik.bad_birth_date"), // 31 April
        ("5304011708900000", "nik.bad_serial"),
    ];
    for (nik, key) in cases {
        assert_eq!(
            parse_nik(nik).map(|_| ()).map_err(|e| e.key()),
            Err(key),
            "{nik}"
        );
    }
}

/// A NIK typed with spaces (as printed on the KTP in groups, or pasted with a
/// non-breaking space) is read as its 16 digits, not reported as "17 characters".
#[test]
fn spaces_inside_a_nik_or_kk_are_ignored() {
    let want = "5304015708900001";
    for typed in [
        "5304 0157 0890 0001",
        "530401 570890 0001",
        " 5304015708900001\t",
        "5304\u{a0}015708900001",
        "5304 015708900001",
    ] {
        let nik = parse_nik(typed).unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(nik.digits, want, "{typed:?}");
    }
    let e = parse_nik("5304 0157 0890 001").unwrap_err();
    assert_eq!(
        e.to_string(),
        "NIK must have 16 digits, this has 15 characters"
    );
    let kk = parse_no_kk("5304 0112 2000 0001").unwrap();
    assert_eq!(kk.digits, "5304011220000001");
}

#[test]
fn nik_cross_checks_sex_and_birth_date() {
    let reference = d(REFERENCE);
    // (NIK, recorded sex, recorded birth, expected mismatches)
    let cases = [
        ("5304015708900001", Sex::Female, "1990-08-17", vec![]),
        (
            "5304015708900001",
            Sex::Male,
            "1990-08-17",
            vec![NikMismatch::SexMismatch {
                nik_says: Sex::Female,
                recorded: Sex::Male,
            }],
        ),
        (
            "5304015708900001",
            Sex::Female,
            "1990-08-18",
            vec![NikMismatch::BirthDateMismatch {
                nik_says: Some(d("1990-08-17")),
                recorded: d("1990-08-18"),
            }],
        ),
        (
            "5304011708900002",
            Sex::Female,
            "1991-08-17",
            vec![
                NikMismatch::SexMismatch {
                    nik_says: Sex::Male,
                    recorded: Sex::Female,
                },
                NikMismatch::BirthDateMismatch {
                    nik_says: Some(d("1990-08-17")),
                    recorded: d("1991-08-17"),
                },
            ],
        ),
        // A 1924 birth is not flagged because "24" reads as 2024 by default.
        ("5304011705240009", Sex::Male, "1924-05-17", vec![]),
    ];
    for (nik, sex, birth, want) in cases {
        let n = parse_nik(nik).unwrap();
        assert_eq!(check_nik(&n, sex, d(birth), reference), want, "{nik}");
    }
    let m = NikMismatch::SexMismatch {
        nik_says: Sex::Female,
        recorded: Sex::Male,
    };
    assert_eq!(m.label().key, "nik.sex_mismatch");
}

#[test]
fn no_kk() {
    // (No KK, Ok(region) or error key)
    let cases = [
        ("5304011203150001", Ok("53.04.01")),
        ("5304010000000001", Ok("53.04.01")), // the date part is not checked
        ("530401120315000", Err("kk.bad_length")),
        ("53040112031500011", Err("kk.bad_length")),
        ("53040112031500a1", Err("kk.not_digits")),
        ("0004011203150001", Err("kk.bad_region")),
    ];
    for (kk, want) in cases {
        let got = parse_no_kk(kk)
            .map(|k| k.region.dotted())
            .map_err(|e| e.key());
        assert_eq!(got.as_deref().map_err(|e| *e), want, "{kk}");
    }
}
