//! The monthly report as files a kader can share: a CSV for an Indonesian spreadsheet and
//! the printable PDF (`pdf.rs`). Both name the posyandu (its code comes second), write
//! numbers with the decimal comma and months and dates as the user reads them.

use crate::settings::Locale;
use health_rules::Sex;
use health_rules::kms::{MONTH_NAMES_EN, MONTH_NAMES_ID, YearMonth};
use health_rules::report::{MonthlyReport, ReportRow};

/// "Desember 2026" / "December 2026".
pub fn month_label(m: YearMonth, locale: Locale) -> String {
    let names = match locale {
        Locale::Id => &MONTH_NAMES_ID,
        Locale::En => &MONTH_NAMES_EN,
    };
    let i = (m.month.clamp(1, 12) - 1) as usize;
    format!("{} {}", names[i], m.year)
}

/// A percentage with one decimal and the decimal comma ("66,7"); empty without a
/// denominator.
pub fn percent(r: Option<f64>) -> String {
    r.map(|v| format!("{:.1}", v * 100.0).replace('.', ","))
        .unwrap_or_default()
}

/// "L", "P", "L+P" (Indonesian) or "M", "F", "M+F".
pub fn sex_label(sex: Option<Sex>, locale: Locale) -> &'static str {
    match (sex, locale) {
        (Some(Sex::Male), Locale::Id) => "L",
        (Some(Sex::Female), Locale::Id) => "P",
        (None, Locale::Id) => "L+P",
        (Some(Sex::Male), Locale::En) => "M",
        (Some(Sex::Female), Locale::En) => "F",
        (None, Locale::En) => "M+F",
    }
}

/// The age band of a row ("0–59" for all ages).
pub fn band_label(row: &ReportRow) -> &'static str {
    row.band.map_or("0-59", |b| b.as_str())
}

/// The column heads after posyandu, code, month, age and sex, in the user's language.
pub fn count_heads(locale: Locale) -> [&'static str; 18] {
    match locale {
        Locale::Id => [
            "S",
            "K",
            "D",
            "N",
            "T",
            "O",
            "B",
            "Tidak hadir",
            "2T",
            "BGM",
            "Vitamin A",
            "ASI eksklusif",
            "K/S (%)",
            "D/S (%)",
            "D/K (%)",
            "N/D (%)",
            "N/S (%)",
            "N/D' (%)",
        ],
        Locale::En => [
            "S",
            "K",
            "D",
            "N",
            "T",
            "O",
            "B",
            "Absent",
            "2T",
            "BGM",
            "Vitamin A",
            "Exclusive breastfeeding",
            "K/S (%)",
            "D/S (%)",
            "D/K (%)",
            "N/D (%)",
            "N/S (%)",
            "N/D' (%)",
        ],
    }
}

/// A row's counts and ratios as texts, in `count_heads`' order.
pub fn row_cells(row: &ReportRow) -> [String; 18] {
    let c = &row.counts;
    let r = &row.ratios;
    [
        c.s.to_string(),
        c.k.to_string(),
        c.d.to_string(),
        c.n.to_string(),
        c.t.to_string(),
        c.o.to_string(),
        c.b.to_string(),
        c.absent.to_string(),
        c.two_t.to_string(),
        c.bgm.to_string(),
        c.vitamin_a.to_string(),
        c.asi_eksklusif.to_string(),
        percent(r.k_s),
        percent(r.d_s),
        percent(r.d_k),
        percent(r.n_d),
        percent(r.n_s),
        percent(r.n_d_prime),
    ]
}

/// The field as a spreadsheet reads it after `;` separation: quoted when it holds a `;`,
/// a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The report as CSV for a spreadsheet set to Indonesian: `;` between fields and the
/// decimal comma (Excel and LibreOffice in Indonesian read `,` as the decimal separator).
/// One line per age band and sex, the total last.
pub fn report_csv(
    report: &MonthlyReport,
    posyandu_name: &str,
    month: YearMonth,
    locale: Locale,
) -> String {
    let heads: [&str; 5] = match locale {
        Locale::Id => [
            "Posyandu",
            "Kode posyandu",
            "Bulan",
            "Umur (bulan)",
            "Jenis kelamin",
        ],
        Locale::En => ["Posyandu", "Posyandu code", "Month", "Age (months)", "Sex"],
    };
    let mut out = String::new();
    let head: Vec<String> = heads
        .iter()
        .chain(count_heads(locale).iter())
        .map(|h| field(h))
        .collect();
    out.push_str(&head.join(";"));
    out.push('\n');
    let month = month_label(month, locale);
    for row in &report.rows {
        let mut cells = vec![
            field(posyandu_name),
            field(&report.posyandu_id),
            field(&month),
            band_label(row).to_string(),
            sex_label(row.sex, locale).to_string(),
        ];
        cells.extend(row_cells(row).iter().map(|c| field(c)));
        out.push_str(&cells.join(";"));
        out.push('\n');
    }
    out
}

/// `53.04.05.2001.P01` → `53-04-05-2001-P01`; `Posyandu Mawar` → `Posyandu-Mawar`: a file
/// name with no dots, separators or spaces.
pub fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use health_rules::report::{AgeBand, Counts, Ratios};

    pub(crate) fn sample() -> MonthlyReport {
        let ratios = Ratios {
            k_s: Some(1.0),
            d_s: Some(2.0 / 3.0),
            d_k: Some(2.0 / 3.0),
            n_d: Some(0.5),
            n_s: Some(1.0 / 3.0),
            n_d_prime: None,
        };
        let counts = Counts {
            s: 3,
            k: 3,
            d: 2,
            n: 1,
            b: 1,
            absent: 1,
            ..Counts::default()
        };
        MonthlyReport {
            posyandu_id: "53.04.05.2001.P01".into(),
            month: YearMonth::new(2026, 12).expect("a month"),
            kbm_table_id: "kbm".into(),
            red_line_id: "red".into(),
            vitamin_a_month: false,
            rows: vec![
                ReportRow {
                    band: Some(AgeBand::M6To11),
                    sex: Some(Sex::Female),
                    counts,
                    ratios,
                },
                ReportRow {
                    band: None,
                    sex: None,
                    counts,
                    ratios,
                },
            ],
            problems: vec![],
        }
    }

    #[test]
    fn csv_names_the_posyandu_with_semicolons_and_decimal_commas() {
        let m = YearMonth::new(2026, 12).expect("a month");
        let csv = report_csv(&sample(), "Posyandu Mawar; Fatubesi", m, Locale::Id);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("Posyandu;Kode posyandu;Bulan;Umur (bulan);Jenis kelamin;S;K;D;")
        );
        assert_eq!(
            lines[2],
            "\"Posyandu Mawar; Fatubesi\";53.04.05.2001.P01;Desember 2026;0-59;L+P;3;3;2;1;0;0;1;1;0;0;0;0;100,0;66,7;66,7;50,0;33,3;"
        );
        assert!(lines[1].contains(";6-11;P;"));
        let en = report_csv(&sample(), "Posyandu Mawar", m, Locale::En);
        assert!(en.starts_with("Posyandu;Posyandu code;Month;"));
        assert!(en.contains("Posyandu Mawar;53.04.05.2001.P01;December 2026;0-59;M+F;"));
        assert!(en.contains(";66,7;"));
    }

    #[test]
    fn file_names_are_plain() {
        assert_eq!(file_safe("53.04.05.2001.P01"), "53-04-05-2001-P01");
        assert_eq!(file_safe("Posyandu Mawar"), "Posyandu-Mawar");
    }
}
