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
    // --lang id is the default: Indonesian headings and indicator names.
    assert!(text.contains("umur 416 hari"), "{text}");
    assert!(
        text.contains("-1.05") && text.contains("Berat badan normal"),
        "{text}"
    );
    assert!(
        text.contains("BB/PB") && text.contains("Gizi baik"),
        "{text}"
    );
    assert!(text.contains("Berat badan menurut umur"), "{text}");
    assert!(
        !text.contains("Weight-for-age") && !text.contains("days"),
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
    assert!(err.contains("sebelum tanggal lahir"), "{err}");

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
        "--lang",
        "en",
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
    assert_eq!(&rows[0][col("cat_wfl")], "Normal");
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

fn run_csv(
    name: &str,
    input: &[u8],
    lang: &str,
) -> (Option<i32>, String, Vec<Vec<String>>, PathBuf) {
    let dir = temp_dir(name);
    let in_path = dir.join("in.csv");
    let out_path = dir.join("out.csv");
    std::fs::write(&in_path, input).unwrap();
    let out = jangkau(&[
        "growth",
        "--csv",
        in_path.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
        "--lang",
        lang,
    ]);
    let err = String::from_utf8(out.stderr).unwrap();
    let text = std::fs::read(&out_path).unwrap_or_default();
    let delimiter = if text.starts_with(b"sex;") {
        b';'
    } else {
        b','
    };
    let rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (out.status.code(), err, rows, dir)
}

const HEADER: &str = "sex,birth_date,measure_date,weight_kg,height_cm,position,head_cm,muac_cm";

/// Finding 2: a row with more cells than the header no longer aborts the run.
#[test]
fn csv_row_with_more_cells_than_the_header() {
    let input = format!(
        "{HEADER}\n\
         F,2024-01-10,2025-03-01,8,2,74,lying,45,12,5\n\
         F,2024-01-10,2025-03-01,8.2,74,lying,,,,\n\
         F,2024-01-10,2025-03-01,8.2,74,lying,,\n"
    );
    let (code, err, rows, dir) = run_csv("wide", input.as_bytes(), "en");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("line 2: 10 cells, header has 8; the extra cells are cut"),
        "{err}"
    );
    assert!(
        err.contains("line 3: 10 cells, header has 8; the extra empty cells are cut"),
        "{err}"
    );
    assert!(err.contains("1 of 3 rows"), "{err}");
    assert_eq!(rows.len(), 4, "header + every row");
    let width = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == width), "{rows:?}");
    assert!(
        rows[1][width - 1].starts_with("error: 10 cells"),
        "{:?}",
        rows[1]
    );
    assert_eq!(rows[1][8], "", "a shifted row is not assessed");
    assert_eq!(rows[2][8], "-1.05");
    assert_eq!(rows[3][8], "-1.05");
    assert!(!dir.join("out.csv.partial").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Finding 2: a fatal error after the output was started leaves no `.partial` behind.
#[test]
fn fatal_error_removes_the_partial_file() {
    let dir = temp_dir("fatal");
    let input = dir.join("in.csv");
    std::fs::write(
        &input,
        format!("{HEADER}\nF,2024-01-10,2025-03-01,8.2,74,lying,,\n"),
    )
    .unwrap();
    // The output name is a directory: the final rename fails.
    let output = dir.join("out.csv");
    std::fs::create_dir_all(&output).unwrap();
    let out = jangkau(&[
        "growth",
        "--csv",
        input.to_str().unwrap(),
        "--out",
        output.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("cannot move")
    );
    assert!(!dir.join("out.csv.partial").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Finding 19: Excel with an Indonesian locale saves `;` with decimal commas.
#[test]
fn semicolon_csv_with_decimal_commas() {
    let input = "sex;birth_date;measure_date;weight_kg;height_cm;position;head_cm;muac_cm\n\
                 P;10/01/2024;01/03/2025;8,2;74;lying;;\n";
    let (code, err, rows, dir) = run_csv("semicolon", input.as_bytes(), "id");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(rows[0][8], "z_wfa");
    assert_eq!(rows[1][3], "8,2", "input cells are kept as they were");
    assert_eq!(rows[1][8], "-1.05");
    assert_eq!(rows[1][10], "-1.00");
    let cat_wfl = rows[0].iter().position(|h| h == "cat_wfl").unwrap();
    assert_eq!(rows[1][cat_wfl], "Gizi baik");
    std::fs::remove_dir_all(&dir).ok();
}

/// Finding 19: a row that is not UTF-8 is still written, with an error flag.
#[test]
fn invalid_utf8_row_is_written_with_an_error() {
    let mut input = format!("name,{HEADER}\n").into_bytes();
    input.extend_from_slice(b"Ani,F,2024-01-10,2025-03-01,8.2,74,lying,,\n");
    input.extend_from_slice(b"Sit\xff,F,2024-01-10,2025-03-01,8.2,74,lying,,\n");
    input.extend_from_slice(b"Budi,M,2024-01-10,2025-03-01,9,75,lying,,\n");
    let (code, err, rows, dir) = run_csv("utf8", &input, "en");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("line 3: The row is not valid UTF-8"), "{err}");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[2][0], "Sit\u{fffd}");
    assert!(
        rows[2]
            .last()
            .unwrap()
            .starts_with("error: the row is not valid UTF-8")
    );
    assert_eq!(rows[3][0], "Budi");
    assert!(
        !rows[3][9].is_empty(),
        "the next row is assessed: {:?}",
        rows[3]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Findings 3 and 19: oedema is gizi buruk without a z; no weight-for-height noise
/// above 5 years; --lang id flags and reasons are Indonesian.
#[test]
fn csv_oedema_and_school_age_in_indonesian() {
    let input = format!(
        "{HEADER},oedema\n\
         F,2024-01-10,2025-03-01,8.2,74,lying,,,y\n\
         M,2015-06-01,2022-06-01,22,120,standing,,,n\n\
         M,2024-01-01,2024-12-31,20,44,,,,\n"
    );
    let (code, err, rows, dir) = run_csv("oedema", input.as_bytes(), "id");
    assert_eq!(code, Some(0), "{err}");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    assert_eq!(rows[1][col("z_wfl")], "");
    assert_eq!(rows[1][col("cat_wfl")], "Gizi buruk (edema)");
    assert_eq!(rows[1][col("z_wfa")], "");
    assert!(
        rows[1][col("flags")].contains("wfa: tidak dihitung"),
        "{:?}",
        rows[1]
    );
    assert!(rows[1][col("flags")].contains("edema"), "{:?}", rows[1]);
    // 7 years: no weight-for-height line at all.
    assert!(!rows[2][col("flags")].contains("wfh"), "{:?}", rows[2]);
    assert_ne!(rows[2][col("z_bfa")], "");
    assert!(
        rows[3][col("flags")].contains("wfa: tidak wajar"),
        "{:?}",
        rows[3]
    );
    assert!(
        rows[3][col("flags")].contains("wfl: tidak dihitung, Berat badan menurut panjang badan"),
        "{:?}",
        rows[3]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// --lang en and --lang id on the same child.
#[test]
fn text_output_follows_lang() {
    let args = |lang: &'static str| {
        [
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
            "--oedema",
            "--lang",
            lang,
        ]
    };
    let id = String::from_utf8(jangkau(&args("id")).stdout).unwrap();
    assert!(id.contains("Anak: perempuan"), "{id}");
    assert!(id.contains("Gizi buruk (edema)"), "{id}");
    assert!(
        id.contains("Tidak dihitung: Berat badan menurut umur"),
        "{id}"
    );
    let en = String::from_utf8(jangkau(&args("en")).stdout).unwrap();
    assert!(en.contains("Child: female"), "{en}");
    assert!(en.contains("Severely wasted (oedema)"), "{en}");
    assert!(en.contains("Not computed: Weight-for-age"), "{en}");
    // Absurd input: a short message, exit 1.
    let out = jangkau(&[
        "growth",
        "--sex",
        "F",
        "--birth",
        "2024-01-10",
        "--date",
        "2025-03-01",
        "--weight",
        "1e308",
        "--lang",
        "en",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("from 0.2 to 250; got 1.0e308"), "{err}");
}
