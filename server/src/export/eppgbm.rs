//! The e-PPGBM by-name file: one row per child under five weighed in a month at or below a
//! place, with exactly e-PPGBM's columns ([`HEADER`]), so that the puskesmas nutrition
//! officer uploads it instead of typing every weighing again.
//!
//! Read from the read model (persons, households, places, measurement and supplement facts)
//! and computed by `records::growth` (health-rules' WHO z-scores, Permenkes 2/2020 categories
//! and the KMS result) exactly as the child's card on the tablet. [`rows`] is what the
//! dashboard calls; [`write_csv`] and [`write_xlsx`] write a file.

use super::ExportError;
use crate::Storage;
use crate::readmodel::{Cell as DbCell, Param};
use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::growth::{IndicatorResult, Position};
use health_rules::kms::{KmsResult, YearMonth};
use records::facts::{Fact, live_measurements};
use records::{PersonFacts, RuleOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;

/// e-PPGBM's header, in its order and spelling ("Pukesmas" as e-PPGBM writes it).
pub const HEADER: [&str; 33] = [
    "NIK",
    "Nama",
    "JK",
    "Tgl Lahir",
    "BB Lahir",
    "TB Lahir",
    "Nama Ortu",
    "Prov",
    "Kab/Kota",
    "Kec",
    "Pukesmas",
    "Desa/Kel",
    "Posyandu",
    "RT",
    "RW",
    "Alamat",
    "Usia Saat Ukur",
    "Tanggal Pengukuran",
    "Berat",
    "Tinggi",
    "Cara Ukur",
    "LiLA",
    "BB/U",
    "ZS BB/U",
    "TB/U",
    "ZS TB/U",
    "BB/TB",
    "ZS BB/TB",
    "Naik Berat Badan",
    "PMT Diterima (kg)",
    "Jml Vit A",
    "KPSP",
    "KIA",
];

/// Kemendagri's province codes (the first part of a place code) and names.
const PROVINCES: [(&str, &str); 38] = [
    ("11", "Aceh"),
    ("12", "Sumatera Utara"),
    ("13", "Sumatera Barat"),
    ("14", "Riau"),
    ("15", "Jambi"),
    ("16", "Sumatera Selatan"),
    ("17", "Bengkulu"),
    ("18", "Lampung"),
    ("19", "Kepulauan Bangka Belitung"),
    ("21", "Kepulauan Riau"),
    ("31", "DKI Jakarta"),
    ("32", "Jawa Barat"),
    ("33", "Jawa Tengah"),
    ("34", "DI Yogyakarta"),
    ("35", "Jawa Timur"),
    ("36", "Banten"),
    ("51", "Bali"),
    ("52", "Nusa Tenggara Barat"),
    ("53", "Nusa Tenggara Timur"),
    ("61", "Kalimantan Barat"),
    ("62", "Kalimantan Tengah"),
    ("63", "Kalimantan Selatan"),
    ("64", "Kalimantan Timur"),
    ("65", "Kalimantan Utara"),
    ("71", "Sulawesi Utara"),
    ("72", "Sulawesi Tengah"),
    ("73", "Sulawesi Selatan"),
    ("74", "Sulawesi Tenggara"),
    ("75", "Gorontalo"),
    ("76", "Sulawesi Barat"),
    ("81", "Maluku"),
    ("82", "Maluku Utara"),
    ("91", "Papua"),
    ("92", "Papua Barat"),
    ("93", "Papua Selatan"),
    ("94", "Papua Tengah"),
    ("95", "Papua Pegunungan"),
    ("96", "Papua Barat Daya"),
];

/// One indicator's result as e-PPGBM shows it: the Permenkes 2/2020 category in Bahasa
/// Indonesia and the z-score (2 decimals).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Indicator {
    pub category: Option<String>,
    pub z: Option<f64>,
}

impl Indicator {
    fn of(r: Option<&IndicatorResult>) -> Indicator {
        Indicator {
            category: r.and_then(|r| r.category).map(|c| c.label().id.to_string()),
            z: r.and_then(|r| r.z),
        }
    }
}

/// One row: a child's weighing day of the month.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Row {
    /// The person's record id (not a column; for links and tests).
    pub person: String,
    pub nik: Option<String>,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub birth_weight_kg: Option<f64>,
    pub birth_length_cm: Option<f64>,
    /// The mother's name, else the head of the household.
    pub parent: Option<String>,
    pub province: String,
    pub kabupaten: String,
    pub kecamatan: String,
    pub puskesmas: String,
    pub desa: String,
    pub posyandu: String,
    pub rt: Option<String>,
    pub rw: Option<String>,
    pub address: Option<String>,
    /// Age at the measurement as e-PPGBM writes it: `1 Tahun - 3 Bulan - 12 Hari`.
    pub age: String,
    pub date: NaiveDate,
    pub weight_kg: f64,
    /// Length or height as measured (before WHO's position correction).
    pub length_height_cm: Option<f64>,
    /// `Terlentang` (lying) or `Berdiri` (standing).
    pub position: Option<String>,
    pub muac_cm: Option<f64>,
    pub weight_for_age: Indicator,
    pub height_for_age: Indicator,
    /// Weight-for-length below 2 years, weight-for-height from 2 years.
    pub weight_for_height: Indicator,
    /// The KMS result of the month: N, T, O or B.
    pub weight_gain: Option<String>,
    pub pmt_kg: Option<f64>,
    /// Vitamin A capsules given in the month.
    pub vitamin_a: u32,
    pub kpsp: Option<String>,
    /// Has a KIA book (KMS).
    pub kia: bool,
}

/// A cell of the file: text, a number, or empty.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

fn text(s: &Option<String>) -> Cell {
    s.as_ref().map_or(Cell::Empty, |s| Cell::Text(s.clone()))
}

fn num(n: Option<f64>) -> Cell {
    n.map_or(Cell::Empty, Cell::Number)
}

/// dd/mm/yyyy.
pub fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The age between two days as e-PPGBM writes it: completed years, months and days.
pub fn age_text(birth: NaiveDate, on: NaiveDate) -> String {
    let months_total = records::age_in_months(birth, on).unwrap_or(0);
    let anniversary = birth
        .checked_add_months(chrono::Months::new(months_total))
        .unwrap_or(birth);
    let days = (on - anniversary).num_days().max(0);
    format!(
        "{} Tahun - {} Bulan - {} Hari",
        months_total / 12,
        months_total % 12,
        days
    )
}

impl Row {
    /// The row's cells, in [`HEADER`]'s order.
    pub fn cells(&self) -> Vec<Cell> {
        vec![
            text(&self.nik),
            Cell::Text(self.name.clone()),
            Cell::Text(
                match self.sex {
                    Sex::Male => "L",
                    Sex::Female => "P",
                }
                .into(),
            ),
            Cell::Text(dmy(self.birth_date)),
            num(self.birth_weight_kg),
            num(self.birth_length_cm),
            text(&self.parent),
            Cell::Text(self.province.clone()),
            Cell::Text(self.kabupaten.clone()),
            Cell::Text(self.kecamatan.clone()),
            Cell::Text(self.puskesmas.clone()),
            Cell::Text(self.desa.clone()),
            Cell::Text(self.posyandu.clone()),
            text(&self.rt),
            text(&self.rw),
            text(&self.address),
            Cell::Text(self.age.clone()),
            Cell::Text(dmy(self.date)),
            Cell::Number(self.weight_kg),
            num(self.length_height_cm),
            text(&self.position),
            num(self.muac_cm),
            text(&self.weight_for_age.category),
            num(self.weight_for_age.z),
            text(&self.height_for_age.category),
            num(self.height_for_age.z),
            text(&self.weight_for_height.category),
            num(self.weight_for_height.z),
            text(&self.weight_gain),
            num(self.pmt_kg),
            Cell::Number(f64::from(self.vitamin_a)),
            text(&self.kpsp),
            Cell::Text(if self.kia { "Ya" } else { "Tidak" }.into()),
        ]
    }
}

fn db_text(r: &[DbCell], i: usize) -> Option<String> {
    r.get(i).and_then(DbCell::text).map(str::to_string)
}

fn values(r: &[DbCell], i: usize) -> serde_json::Map<String, Value> {
    db_text(r, i)
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

fn vtext(v: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// Names of `code`'s place and every place above it, by level.
async fn ancestors(
    store: &dyn Storage,
    code: &str,
) -> Result<HashMap<String, String>, ExportError> {
    let mut out = HashMap::new();
    for r in store
        .read_rows(
            "SELECT p.level, p.name FROM place_tree t JOIN places p ON p.code = t.ancestor
             WHERE t.code = ?1"
                .into(),
            vec![Param::Text(code.into())],
        )
        .await?
    {
        if let (Some(level), Some(name)) = (db_text(&r, 0), db_text(&r, 1)) {
            out.insert(level, name);
        }
    }
    Ok(out)
}

/// The place names of a row: province (from the code), kabupaten, kecamatan, puskesmas,
/// desa, posyandu.
type PlaceNames = [String; 6];

async fn place_names(store: &dyn Storage, posyandu: &str) -> Result<PlaceNames, ExportError> {
    let a = ancestors(store, posyandu).await?;
    let get = |l: &str| a.get(l).cloned().unwrap_or_default();
    let prov = posyandu.split('.').next().unwrap_or_default();
    let province = PROVINCES
        .iter()
        .find(|(c, _)| *c == prov)
        .map(|(_, n)| (*n).to_string())
        .unwrap_or_default();
    Ok([
        province,
        get("kabupaten"),
        get("kecamatan"),
        get("puskesmas"),
        get("desa"),
        get("posyandu"),
    ])
}

/// The e-PPGBM rows of `place` (and every posyandu below it) for `month`: one per child
/// under five on the day, weighed in the month (the month's last weighing day), ordered by
/// posyandu, name and id.
pub async fn rows(
    store: &dyn Storage,
    place: &str,
    month: YearMonth,
) -> Result<Vec<Row>, ExportError> {
    let first = NaiveDate::from_ymd_opt(month.year, month.month, 1)
        .ok_or_else(|| ExportError::Invalid(format!("no month {}-{}", month.year, month.month)))?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    let born_after = first
        .checked_sub_months(chrono::Months::new(records::UNDER_FIVE_MONTHS))
        .unwrap_or(first);
    let p = |s: &str| Param::Text(s.to_string());
    let persons = store
        .read_rows(
            "SELECT p.id, p.posyandu, p.name, p.sex, p.birth_date, p.nik, p.values_json,
                 m.name, h.head_name, h.rt, h.rw, h.values_json
             FROM persons p JOIN place_tree t ON t.code = p.posyandu
             LEFT JOIN persons m ON m.id = p.mother AND m.deleted = 0
             LEFT JOIN households h ON h.id = p.household AND h.deleted = 0
             WHERE t.ancestor = ?1 AND p.deleted = 0
               AND p.birth_date > ?2 AND p.birth_date <= ?3
               AND NOT EXISTS (SELECT 1 FROM facts x WHERE x.subject = p.id
                               AND x.kind = 'person_merge' AND x.deleted = 0)
             ORDER BY p.posyandu, p.name, p.id"
                .into(),
            vec![
                p(place),
                p(&records::facts::ymd(born_after)),
                p(&records::facts::ymd(last)),
            ],
        )
        .await?;
    let mut history = PersonFacts::default();
    for r in store
        .read_rows(
            "SELECT f.id, f.kind, f.date, f.body_json, f.supersedes, f.person,
                 (SELECT MIN(c.id) FROM facts c WHERE c.supersedes = f.id AND c.deleted = 0)
             FROM facts f WHERE f.deleted = 0 AND f.kind IN ('measurement', 'supplement')
               AND f.date <= ?2
               AND f.person IN (
                 SELECT p.id FROM persons p JOIN place_tree t ON t.code = p.posyandu
                     WHERE t.ancestor = ?1
                 UNION SELECT m.subject FROM facts m JOIN place_tree t ON t.code = m.posyandu
                     WHERE t.ancestor = ?1 AND m.kind = 'person_merge' AND m.deleted = 0
                       AND m.subject IS NOT NULL)"
                .into(),
            vec![p(place), p(&records::facts::ymd(last))],
        )
        .await?
    {
        let (Some(id), Some(kind), Some(day)) = (db_text(&r, 0), db_text(&r, 1), db_text(&r, 2))
        else {
            continue;
        };
        let fact = Fact::from_columns(
            &id,
            &kind,
            day,
            &db_text(&r, 3).unwrap_or_else(|| "{}".into()),
            db_text(&r, 4).as_deref(),
            db_text(&r, 6).as_deref(),
            db_text(&r, 5),
        )
        .map_err(|e| ExportError::Row(e.to_string()))?;
        if let Some(person) = fact.person.clone() {
            history.facts.entry(person).or_default().push(fact);
        }
    }
    for r in store
        .read_rows(
            "SELECT m.person, m.subject FROM facts m JOIN place_tree t ON t.code = m.posyandu
             WHERE t.ancestor = ?1 AND m.kind = 'person_merge' AND m.deleted = 0
               AND m.person IS NOT NULL AND m.subject IS NOT NULL"
                .into(),
            vec![p(place)],
        )
        .await?
    {
        if let (Some(kept), Some(merged)) = (db_text(&r, 0), db_text(&r, 1)) {
            history.merges.entry(kept).or_default().push(merged);
        }
    }
    let kbm = RuleOptions::default().kbm().ok();
    let mut names: HashMap<String, PlaceNames> = HashMap::new();
    let mut out = Vec::new();
    for r in &persons {
        let (Some(id), Some(posyandu)) = (db_text(r, 0), db_text(r, 1)) else {
            continue;
        };
        let sex = records::facts::sex(db_text(r, 3).as_deref());
        let birth = db_text(r, 4).and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok());
        let (Some(sex), Some(birth)) = (sex, birth) else {
            continue;
        };
        let (facts, _) = history.take(&id);
        let points = records::growth::growth_points(sex, birth, &facts, kbm);
        let Some(point) = points.iter().rev().find(|pt| {
            pt.weight_kg.is_some()
                && NaiveDate::parse_from_str(&pt.date, "%Y-%m-%d")
                    .is_ok_and(|d| d >= first && d <= last && records::is_under_five(birth, d))
        }) else {
            continue;
        };
        let Ok(day) = NaiveDate::parse_from_str(&point.date, "%Y-%m-%d") else {
            continue;
        };
        let live = live_measurements(&facts);
        let on_day = |kind: &str| live.iter().rev().find(|m| m.date == day && m.kind == kind);
        let position = on_day("length_height")
            .and_then(|m| m.position)
            .map(|p| match p {
                Position::Lying => "Terlentang".to_string(),
                Position::Standing => "Berdiri".to_string(),
            });
        let in_month = |f: &&Fact| {
            f.kind == sync_protocol::EntityKind::Supplement
                && f.is_live()
                && f.day().is_some_and(|d| d >= first && d <= last)
        };
        let supplement = |f: &Fact| f.text("supplement").unwrap_or_default().to_string();
        let vitamin_a = facts
            .iter()
            .filter(in_month)
            .filter(|f| supplement(f).starts_with("vitamin_a"))
            .count() as u32;
        let a = point.assessment.as_ref();
        let v = values(r, 6);
        let hh = values(r, 11);
        if !names.contains_key(&posyandu) {
            let n = place_names(store, &posyandu).await?;
            names.insert(posyandu.clone(), n);
        }
        let [
            province,
            kabupaten,
            kecamatan,
            puskesmas,
            desa,
            posyandu_name,
        ] = names.get(&posyandu).cloned().unwrap_or_default();
        out.push(Row {
            person: id,
            nik: db_text(r, 5),
            name: db_text(r, 2).unwrap_or_default(),
            sex,
            birth_date: birth,
            birth_weight_kg: v.get("birth_weight").and_then(Value::as_f64),
            birth_length_cm: v.get("birth_length").and_then(Value::as_f64),
            parent: db_text(r, 7).or_else(|| db_text(r, 8)),
            province,
            kabupaten,
            kecamatan,
            puskesmas,
            desa,
            posyandu: posyandu_name,
            rt: vtext(&v, "rt").or_else(|| db_text(r, 9)),
            rw: db_text(r, 10),
            address: vtext(&hh, "address"),
            age: age_text(birth, day),
            date: day,
            weight_kg: point.weight_kg.unwrap_or_default(),
            length_height_cm: point.length_height_cm,
            position,
            muac_cm: on_day("muac").map(|m| m.value),
            weight_for_age: Indicator::of(a.and_then(|a| a.wfa.as_ref())),
            height_for_age: Indicator::of(a.and_then(|a| a.lhfa.as_ref())),
            weight_for_height: Indicator::of(a.and_then(|a| a.wfl.as_ref().or(a.wfh.as_ref()))),
            weight_gain: point.kms.as_ref().map(|k| {
                match k.result {
                    KmsResult::N => "N",
                    KmsResult::T => "T",
                    KmsResult::O => "O",
                    KmsResult::B => "B",
                }
                .to_string()
            }),
            pmt_kg: None,
            vitamin_a,
            kpsp: None,
            kia: v.get("has_kms").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    Ok(out)
}

/// A number as an Indonesian Excel reads it: decimal comma, no thousands separator.
fn decimal_comma(n: f64) -> String {
    let s = if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        let s = format!("{n:.2}");
        s.trim_end_matches('0').to_string()
    };
    s.replace('.', ",")
}

/// The CSV: `;`-separated (the list separator of an Indonesian Excel, whose decimal
/// separator is the comma), UTF-8 with a byte-order mark so Excel reads the names right.
pub fn write_csv(rows: &[Row], out: impl Write) -> Result<(), ExportError> {
    let mut out = out;
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(HEADER)?;
    for r in rows {
        let cells: Vec<String> = r
            .cells()
            .into_iter()
            .map(|c| match c {
                Cell::Text(s) => s,
                Cell::Number(n) => decimal_comma(n),
                Cell::Empty => String::new(),
            })
            .collect();
        w.write_record(&cells)?;
    }
    w.flush()?;
    Ok(())
}

/// The XLSX workbook (one sheet, numbers as numbers), as bytes.
pub fn xlsx_bytes(rows: &[Row]) -> Result<Vec<u8>, ExportError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("e-PPGBM")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| ExportError::Invalid("too many rows".into()))?;
        for (c, cell) in r.cells().into_iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(row, col, s)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(row, col, n)?;
                }
                Cell::Empty => {}
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// Writes the rows to `path`: XLSX when it ends in `.xlsx`, CSV when in `.csv`.
pub fn write_file(rows: &[Row], path: &std::path::Path) -> Result<(), ExportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx") => {
            let bytes = xlsx_bytes(rows)?;
            std::fs::write(path, bytes)?;
        }
        Some("csv") => {
            let f = std::fs::File::create(path)?;
            write_csv(rows, std::io::BufWriter::new(f))?;
        }
        _ => {
            return Err(ExportError::Invalid(format!(
                "{}: the file must end in .xlsx or .csv",
                path.display()
            )));
        }
    }
    Ok(())
}

/// `YYYY-MM` as a month.
pub fn parse_month(s: &str) -> Option<YearMonth> {
    let (y, m) = s.split_once('-')?;
    let (year, month) = (y.parse().ok()?, m.parse().ok()?);
    (y.len() == 4 && m.len() == 2 && (1..=12).contains(&month)).then_some(YearMonth { year, month })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn header_is_e_ppgbms() {
        assert_eq!(HEADER.len(), 33);
        assert_eq!(HEADER[10], "Pukesmas");
        assert_eq!(
            HEADER.join(", "),
            "NIK, Nama, JK, Tgl Lahir, BB Lahir, TB Lahir, Nama Ortu, Prov, Kab/Kota, Kec, Pukesmas, Desa/Kel, Posyandu, RT, RW, Alamat, Usia Saat Ukur, Tanggal Pengukuran, Berat, Tinggi, Cara Ukur, LiLA, BB/U, ZS BB/U, TB/U, ZS TB/U, BB/TB, ZS BB/TB, Naik Berat Badan, PMT Diterima (kg), Jml Vit A, KPSP, KIA"
        );
    }

    #[test]
    fn ages_and_numbers_as_e_ppgbm_writes_them() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            age_text(d("2024-01-31"), d("2025-03-05")),
            "1 Tahun - 1 Bulan - 5 Hari"
        );
        assert_eq!(
            age_text(d("2025-03-05"), d("2025-03-05")),
            "0 Tahun - 0 Bulan - 0 Hari"
        );
        assert_eq!(dmy(d("2025-03-05")), "05/03/2025");
        assert_eq!(decimal_comma(8.4), "8,4");
        assert_eq!(decimal_comma(-1.25), "-1,25");
        assert_eq!(decimal_comma(12.0), "12");
        assert_eq!(
            parse_month("2025-11"),
            Some(YearMonth {
                year: 2025,
                month: 11
            })
        );
        assert_eq!(parse_month("2025-13"), None);
    }
}
