//! End-to-end tests of `jangkau growth`, running the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn jangkau(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jangkau"))
        .args(args)
        .output()
        .expect("run jangkau")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jangkau-growth-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn single_child_text_and_json() {
    let out = jangkau(&[
        "growth",
        "--sex",
        "F",
        "--birth",
        "2024-01-10",
        "--date",
        "2025-03-01",
        "--weight",
        "8.2",
        "--height",
        "74",
        "--position",
        "lying",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("416 days"), "{text}");
    assert!(
        text.contains("-1.05") && text.contains("Berat badan normal"),
        "{text}"
    );
    assert!(
        text.contains("BB/PB") && text.contains("Gizi baik"),
        "{text}"
    );

    let out = jangkau(&[
        "growth",
        "--sex",
        "P",
        "--birth",
        "10/01/2024",
        "--date",
        "2025-03-01",
        "--weight",
        "8,2",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["age_days"], 416);
    assert_eq!(v["wfa"]["z"], -1.05);
    assert_eq!(v["wfa"]["category"]["key"], "growth.wfa.normal");
}

#[test]
fn single_child_errors_have_clear_messages_and_codes() {
    let out = jangkau(&[
        "growth",
        "--sex",
        "F",
        "--birth",
        "2025-01-10",
        "--date",
        "2024-03-01",
        "--weight",
        "8",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("before the birth date"), "{err}");

    let out = jangkau(&["growth", "--sex", "X", "--birth", "2024-01-10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("use F or M")
    );

    let out = jangkau(&["growth", "--csv", "missing.csv"]);
    assert_eq!(out.status.code(), Some(2), "--csv needs --out");
}

#[test]
fn csv_register_keeps_every_row_and_reports_bad_ones() {
    let dir = temp_dir("csv");
    let input = dir.join("in.csv");
    let output = dir.join("out.csv");
    std::fs::write(
        &input,
        "sex,birth_date,measure_date,weight_kg,height_cm,position,head_cm,muac_cm\n\
         F,2024-01-10,2025-03-01,8.2,74,lying,,\n\
         L,2022-01-01,2024-01-02,10,80,lying,47,14\n\
         F,2025-01-10,2024-03-01,8,,,,\n\
         Q,2024-01-01,2025-01-01,8,,,,\n\
         M,2024-01-01,2024-12-31,20,44,,,\n",
    )
    .unwrap();
    let out = jangkau(&[
        "growth",
        "--csv",
        input.to_str().unwrap(),
        "--out",
        output.to_str().unwrap(),
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 4: The measurement date"), "{err}");
    assert!(
        err.contains("line 5: Sex: sex \"q\" is not recognised"),
        "{err}"
    );

    let mut rdr = csv::Reader::from_path(&output).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "sex,birth_date,measure_date,weight_kg,height_cm,position,head_cm,muac_cm,\
         z_wfa,z_lhfa,z_wfl,z_wfh,z_bfa,z_hcfa,z_acfa,cat_wfa,cat_lhfa,cat_wfl,cat_wfh,cat_bfa,flags"
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5, "every input row is written");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("z_wfa")], "-1.05");
    assert_eq!(&rows[0][col("z_wfl")], "-1.00");
    assert_eq!(&rows[0][col("cat_wfl")], "Gizi baik");
    assert_eq!(&rows[1][col("z_wfh")], "-0.53");
    assert_eq!(&rows[1][col("z_wfl")], "");
    assert!(rows[2][col("flags")].starts_with("error: the measurement date"));
    assert_eq!(&rows[2][col("z_wfa")], "");
    assert!(
        rows[4][col("flags")].contains("wfa: implausible"),
        "{:?}",
        &rows[4]
    );
    assert!(
        rows[4][col("flags")].contains("wfl: not computed"),
        "{:?}",
        &rows[4]
    );
    assert!(!dir.join("out.csv.partial").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn csv_without_required_columns_is_a_usage_error() {
    let dir = temp_dir("header");
    let input = dir.join("in.csv");
    std::fs::write(&input, "sex,weight_kg\nF,8\n").unwrap();
    let out = jangkau(&[
        "growth",
        "--csv",
        input.to_str().unwrap(),
        "--out",
        dir.join("o.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("no column \"birth_date\"")
    );
    let out = jangkau(&[
        "growth",
        "--csv",
        dir.join("nope.csv").to_str().unwrap(),
        "--out",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
