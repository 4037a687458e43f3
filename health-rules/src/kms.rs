//! KMS growth result per monthly weighing: N, T, O, B, plus 2T and BGM.
//!
//! Rule (Buku KIA; `shared/domain/ILP.md`, "Growth monitoring"):
//! - **B** (baru): the child is weighed for the first time.
//! - **O**: weighed this month but not last month (*tidak ditimbang bulan lalu*).
//! - **N** (naik): weighed this month and last month, and the gain reaches the minimum
//!   gain (KBM, *kenaikan berat badan minimal*) for the child's age in completed months
//!   at this month's weighing.
//! - **T** (tidak naik): weighed both months and the gain is below the KBM (a loss is T).
//! - **2T**: T this month and T last month.
//! - **BGM** (bawah garis merah): weight-for-age z below the red line. The 2010 KMS puts
//!   the red line at −3 SD; the position is data ([`RedLine`]). The z-score comes from
//!   the caller (the `growth` module), never computed here. It is rounded to 2 decimals
//!   ([`crate::growth::round_z`]) before the comparison, as `growth::assess` does for
//!   the categories, so BGM and the BB/U category never disagree. A missing or
//!   non-finite z gives `bgm: None` (unknown).
//! - **Above the orange line** (*di atas garis oranye*, Buku KIA since 2020): weight-for-age
//!   z above the upper line ([`OrangeLine`], versioned data; default +1 SD, to be
//!   confirmed, see `data/kms/garis-oranye-buku-kia-2020.json`).
//! - What to do about T, 2T, BGM and above-orange is data too ([`GrowthActions`]): by
//!   default a single T is a home visit with counselling, the others a referral.
//!
//! The KBM table varies by district, so it is data: `data/kbm/*.json`, each with a
//! version id; callers pick by id ([`kbm_table`]) or load a district table with
//! [`KbmTable::from_json`]. Ages below the first row use the first row; ages beyond the
//! last row use the last row when the table says `extend_last_row` (the built-in tables
//! do), otherwise any gain above zero counts as N.
//!
//! When a month has several weighings, the latest one (by date, then weight) counts, so
//! the result never depends on the order the weighings are given in.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::Label;
use crate::growth::round_z;

/// Id of the default KBM table (Buku KIA).
pub const DEFAULT_KBM_ID: &str = "kbm-buku-kia-v1";
/// Id of the default red line (KMS 2010, −3 SD).
pub const DEFAULT_RED_LINE_ID: &str = "red-line-kms-2010";

const BUILTIN_KBM: [&str; 2] = [
    include_str!("../data/kbm/buku-kia.json"),
    include_str!("../data/kbm/lokal-600-200.json"),
];
const BUILTIN_RED_LINE: &str = include_str!("../data/kms/garis-merah-kms-2010.json");
const BUILTIN_ORANGE_LINE: &str = include_str!("../data/kms/garis-oranye-buku-kia-2020.json");
const BUILTIN_GROWTH_ACTIONS: &str = include_str!("../data/kms/tindak-lanjut-buku-kia.json");
/// Id of the default orange line (Buku KIA 2020+, +1 SD; to be confirmed).
pub const DEFAULT_ORANGE_LINE_ID: &str = "orange-line-buku-kia-2020";
/// Id of the default follow-up actions (single T: home visit; 2T, BGM, above orange: refer).
pub const DEFAULT_GROWTH_ACTIONS_ID: &str = "growth-actions-buku-kia-v1";

/// Errors from KMS rules and tables. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KmsError {
    #[error("weighing on {date} is before the birth date {birth}")]
    WeighingBeforeBirth { date: NaiveDate, birth: NaiveDate },
    #[error("weight {weight_g} g on {date} is not plausible for a child (1–50000 g)")]
    ImplausibleWeight { date: NaiveDate, weight_g: u32 },
    #[error("KBM table could not be read: {0}")]
    TableParse(String),
    #[error("KBM table is invalid: {0}")]
    TableInvalid(String),
}

impl KmsError {
    /// Stable message key for the app's translation files.
    pub fn key(&self) -> &'static str {
        match self {
            Self::WeighingBeforeBirth { .. } => "kms.weighing_before_birth",
            Self::ImplausibleWeight { .. } => "kms.implausible_weight",
            Self::TableParse(_) => "kms.table_parse",
            Self::TableInvalid(_) => "kms.table_invalid",
        }
    }

    /// The values of [`Self::key`]'s text (`date`, `birth`, `weight_g`).
    pub fn params(&self) -> crate::Params {
        use crate::common::params;
        match self {
            Self::WeighingBeforeBirth { date, birth } => {
                params([("date", date.to_string()), ("birth", birth.to_string())])
            }
            Self::ImplausibleWeight { date, weight_g } => params([
                ("date", date.to_string()),
                ("weight_g", weight_g.to_string()),
            ]),
            Self::TableParse(_) | Self::TableInvalid(_) => crate::Params::new(),
        }
    }
}

/// Month names, January first, as reports and the dashboard write them: Bahasa Indonesia.
pub const MONTH_NAMES_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
/// Month names, January first: English.
pub const MONTH_NAMES_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A calendar month (the posyandu reporting unit). Deserialising checks that the month
/// is 1–12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawYearMonth")]
pub struct YearMonth {
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

/// `YearMonth` as it comes in, before the 1–12 check.
#[derive(Deserialize)]
struct RawYearMonth {
    year: i32,
    month: u32,
}

impl TryFrom<RawYearMonth> for YearMonth {
    type Error = String;

    fn try_from(raw: RawYearMonth) -> Result<Self, Self::Error> {
        YearMonth::new(raw.year, raw.month)
            .ok_or_else(|| format!("month {} is not 1-12", raw.month))
    }
}

impl YearMonth {
    /// A month, or `None` when `month` is not 1–12.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then_some(Self { year, month })
    }

    /// The month a date falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The month before. (Never panics: a month outside 1–12, which only direct
    /// construction can make, counts as January; the year saturates.)
    pub fn prev(self) -> Self {
        if self.month <= 1 || self.month > 12 {
            Self {
                year: self.year.saturating_sub(1),
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// First day of the month, or `None` outside chrono's range.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    /// Last day of the month, or `None` outside chrono's range.
    pub fn last_day(self) -> Option<NaiveDate> {
        let first = self.first_day()?;
        first.checked_add_months(Months::new(1))?.pred_opt()
    }
}

impl std::str::FromStr for YearMonth {
    type Err = String;

    /// `YYYY-MM`, e.g. `2025-11`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a month (YYYY-MM)");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        YearMonth::new(year, month).ok_or_else(bad)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Age in completed months: the workspace's one rule, [`crate::age::age_in_months`].
pub use crate::age::age_in_months;

/// One row of a KBM table: ages `from_month..=to_month` need at least `min_gain_g`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbmRow {
    pub from_month: u32,
    pub to_month: u32,
    pub min_gain_g: u32,
}

/// A versioned KBM (minimum weight gain) table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbmTable {
    /// Version id callers pick by, e.g. `kbm-buku-kia-v1`.
    pub id: String,
    pub name: String,
    pub source: String,
    /// Use the last row for ages beyond it (else: any gain above 0 is N).
    pub extend_last_row: bool,
    pub rows: Vec<KbmRow>,
}

impl KbmTable {
    /// Parse and check a table (rows ascending, contiguous, gains above 0).
    pub fn from_json(json: &str) -> Result<Self, KmsError> {
        let table: Self =
            serde_json::from_str(json).map_err(|e| KmsError::TableParse(e.to_string()))?;
        table.validate()?;
        Ok(table)
    }

    fn validate(&self) -> Result<(), KmsError> {
        let bad = |m: String| Err(KmsError::TableInvalid(format!("{}: {m}", self.id)));
        if self.rows.is_empty() {
            return bad("no rows".into());
        }
        for (i, row) in self.rows.iter().enumerate() {
            if row.from_month > row.to_month || row.min_gain_g == 0 {
                return bad(format!("row {i} is empty or has no gain"));
            }
            if let Some(prev) = i.checked_sub(1).and_then(|p| self.rows.get(p))
                && Some(row.from_month) != prev.to_month.checked_add(1)
            {
                return bad(format!("row {i} does not follow row {}", i - 1));
            }
        }
        Ok(())
    }

    /// Minimum gain in grams for a child of `age_months`; `None` beyond the table when
    /// it does not extend its last row.
    pub fn min_gain_g(&self, age_months: u32) -> Option<u32> {
        let (first, last) = (self.rows.first()?, self.rows.last()?);
        if age_months < first.from_month {
            return Some(first.min_gain_g);
        }
        if age_months > last.to_month {
            return self.extend_last_row.then_some(last.min_gain_g);
        }
        self.rows
            .iter()
            .find(|r| (r.from_month..=r.to_month).contains(&age_months))
            .map(|r| r.min_gain_g)
    }
}

/// Built-in KBM tables (Buku KIA default first, then the local variant).
pub fn builtin_kbm_tables() -> &'static [KbmTable] {
    static TABLES: OnceLock<Vec<KbmTable>> = OnceLock::new();
    TABLES.get_or_init(|| {
        BUILTIN_KBM
            .iter()
            .map(|json| KbmTable::from_json(json))
            .collect::<Result<_, _>>()
            .expect("embedded KBM tables parse (checked by test builtin_tables_parse)")
    })
}

/// A built-in KBM table by version id.
pub fn kbm_table(id: &str) -> Option<&'static KbmTable> {
    builtin_kbm_tables().iter().find(|t| t.id == id)
}

/// The red line of the KMS as a weight-for-age z-score (versioned data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedLine {
    pub id: String,
    pub name: String,
    pub source: String,
    /// BGM when weight-for-age z is strictly below this.
    pub wfa_z: f64,
}

impl RedLine {
    /// Parse a red-line definition.
    pub fn from_json(json: &str) -> Result<Self, KmsError> {
        let line: Self =
            serde_json::from_str(json).map_err(|e| KmsError::TableParse(e.to_string()))?;
        if !line.wfa_z.is_finite() {
            return Err(KmsError::TableInvalid(format!(
                "{}: z is not finite",
                line.id
            )));
        }
        Ok(line)
    }

    /// The built-in KMS 2010 red line (−3 SD).
    pub fn kms_2010() -> &'static RedLine {
        static LINE: OnceLock<RedLine> = OnceLock::new();
        LINE.get_or_init(|| {
            RedLine::from_json(BUILTIN_RED_LINE)
                .expect("embedded red line parses (checked by test builtin_tables_parse)")
        })
    }

    /// True when the z-score, rounded to 2 decimals, is below the red line. A
    /// non-finite z is never below (use [`RedLine::check`] to get "unknown").
    pub fn is_below(&self, wfa_z: f64) -> bool {
        wfa_z.is_finite() && round_z(wfa_z) < self.wfa_z
    }

    /// BGM for an optional z: `None` when the z is missing or not finite.
    pub fn check(&self, wfa_z: Option<f64>) -> Option<bool> {
        wfa_z
            .filter(|z| z.is_finite())
            .map(|z| round_z(z) < self.wfa_z)
    }
}

/// The orange (upper) line of the KMS in the Buku KIA since 2020, as a weight-for-age
/// z-score (versioned data). "Rujuk bila … di atas garis oranye".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrangeLine {
    pub id: String,
    pub name: String,
    pub source: String,
    /// Above the line when weight-for-age z (rounded to 2 decimals) is strictly above this.
    pub wfa_z: f64,
}

impl OrangeLine {
    /// Parse an orange-line definition.
    pub fn from_json(json: &str) -> Result<Self, KmsError> {
        let line: Self =
            serde_json::from_str(json).map_err(|e| KmsError::TableParse(e.to_string()))?;
        if !line.wfa_z.is_finite() {
            return Err(KmsError::TableInvalid(format!(
                "{}: z is not finite",
                line.id
            )));
        }
        Ok(line)
    }

    /// The built-in orange line (Buku KIA 2020+, +1 SD; to be confirmed).
    pub fn buku_kia_2020() -> &'static OrangeLine {
        static LINE: OnceLock<OrangeLine> = OnceLock::new();
        LINE.get_or_init(|| {
            OrangeLine::from_json(BUILTIN_ORANGE_LINE)
                .expect("embedded orange line parses (checked by test builtin_tables_parse)")
        })
    }

    /// Above the line for an optional z: `None` when the z is missing or not finite.
    pub fn check(&self, wfa_z: Option<f64>) -> Option<bool> {
        wfa_z
            .filter(|z| z.is_finite())
            .map(|z| round_z(z) > self.wfa_z)
    }
}

/// What to do about a KMS finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthAction {
    /// Home visit by the kader with feeding counselling; the bidan is told.
    HomeVisit,
    /// Report to the bidan for referral (rujukan).
    Refer,
}

/// Follow-up of the KMS findings (versioned data, `data/kms/tindak-lanjut-*.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrowthActions {
    pub id: String,
    pub name: String,
    pub source: String,
    /// One T (not 2T).
    pub t: GrowthAction,
    /// Two consecutive T.
    pub two_t: GrowthAction,
    /// Below the red line (BGM).
    pub below_red_line: GrowthAction,
    /// Above the orange line.
    pub above_orange_line: GrowthAction,
}

impl GrowthActions {
    /// Parse a follow-up table.
    pub fn from_json(json: &str) -> Result<Self, KmsError> {
        serde_json::from_str(json).map_err(|e| KmsError::TableParse(e.to_string()))
    }

    /// The built-in default: single T home visit; 2T, BGM, above orange refer.
    pub fn buku_kia() -> &'static GrowthActions {
        static A: OnceLock<GrowthActions> = OnceLock::new();
        A.get_or_init(|| {
            GrowthActions::from_json(BUILTIN_GROWTH_ACTIONS)
                .expect("embedded growth actions parse (checked by test builtin_tables_parse)")
        })
    }
}

/// One weighing as recorded at the posyandu or a home visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weighing {
    pub date: NaiveDate,
    /// Weight in grams.
    pub weight_g: u32,
    /// Weight-for-age z-score from the growth module, when known (for BGM).
    pub wfa_z: Option<f64>,
}

/// The KMS growth result of one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KmsResult {
    /// Naik: gain reached the KBM.
    N,
    /// Tidak naik: gain below the KBM, or a loss.
    T,
    /// Not weighed last month.
    O,
    /// Weighed for the first time.
    B,
}

impl KmsResult {
    pub fn label(self) -> Label {
        match self {
            Self::N => Label {
                key: "kms.result.n",
                id: "N: berat badan naik",
                en: "N: weight went up",
            },
            Self::T => Label {
                key: "kms.result.t",
                id: "T: berat badan tidak naik",
                en: "T: weight did not go up enough",
            },
            Self::O => Label {
                key: "kms.result.o",
                id: "O: bulan lalu tidak ditimbang",
                en: "O: not weighed last month",
            },
            Self::B => Label {
                key: "kms.result.b",
                id: "B: baru pertama kali ditimbang",
                en: "B: weighed for the first time",
            },
        }
    }
}

/// The KMS assessment of one month's weighing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthResult {
    pub month: YearMonth,
    pub date: NaiveDate,
    pub weight_g: u32,
    /// Age in completed months at this weighing.
    pub age_months: u32,
    pub result: KmsResult,
    /// Gain since last month's weighing (N and T only).
    pub gain_g: Option<i64>,
    /// KBM applied (N and T only; `None` beyond a non-extended table).
    pub kbm_g: Option<u32>,
    /// T this month and T last month.
    pub two_t: bool,
    /// Below the red line; `None` when no (finite) z-score was given.
    pub bgm: Option<bool>,
    /// Above the orange line; `None` when no (finite) z-score was given.
    #[serde(default)]
    pub above_orange: Option<bool>,
}

/// Assess every month in which the child was weighed, oldest first, with the built-in
/// orange line ([`OrangeLine::buku_kia_2020`]). See [`assess_with`].
pub fn assess(
    birth: NaiveDate,
    weighings: &[Weighing],
    kbm: &KbmTable,
    red_line: &RedLine,
) -> Result<Vec<MonthResult>, KmsError> {
    assess_with(birth, weighings, kbm, red_line, OrangeLine::buku_kia_2020())
}

/// Assess every month in which the child was weighed, oldest first, with a given
/// orange line.
pub fn assess_with(
    birth: NaiveDate,
    weighings: &[Weighing],
    kbm: &KbmTable,
    red_line: &RedLine,
    orange_line: &OrangeLine,
) -> Result<Vec<MonthResult>, KmsError> {
    let mut by_month: BTreeMap<YearMonth, &Weighing> = BTreeMap::new();
    for w in weighings {
        if w.date < birth {
            return Err(KmsError::WeighingBeforeBirth {
                date: w.date,
                birth,
            });
        }
        if w.weight_g == 0 || w.weight_g > 50_000 {
            return Err(KmsError::ImplausibleWeight {
                date: w.date,
                weight_g: w.weight_g,
            });
        }
        let slot = by_month.entry(YearMonth::of(w.date)).or_insert(w);
        if later(w, slot) {
            *slot = w;
        }
    }
    let mut out: Vec<MonthResult> = Vec::with_capacity(by_month.len());
    for (month, w) in by_month {
        let age_months = age_in_months(birth, w.date).unwrap_or(0);
        let last = out.last().filter(|p| p.month == month.prev());
        let (result, gain_g, kbm_g) = match (out.is_empty(), last) {
            (true, _) => (KmsResult::B, None, None),
            (false, None) => (KmsResult::O, None, None),
            (false, Some(p)) => {
                let gain = i64::from(w.weight_g) - i64::from(p.weight_g);
                let kbm_g = kbm.min_gain_g(age_months);
                let up = match kbm_g {
                    Some(k) => gain >= i64::from(k),
                    None => gain > 0,
                };
                let r = if up { KmsResult::N } else { KmsResult::T };
                (r, Some(gain), kbm_g)
            }
        };
        let two_t = result == KmsResult::T && last.is_some_and(|p| p.result == KmsResult::T);
        out.push(MonthResult {
            month,
            date: w.date,
            weight_g: w.weight_g,
            age_months,
            result,
            gain_g,
            kbm_g,
            two_t,
            bgm: red_line.check(w.wfa_z),
            above_orange: orange_line.check(w.wfa_z),
        });
    }
    Ok(out)
}

/// Total order on weighings of one month: the later date wins, then the heavier weight,
/// then the higher z-score (so duplicates entered twice give one answer).
fn later(a: &Weighing, b: &Weighing) -> bool {
    let z = |w: &Weighing| w.wfa_z.filter(|z| !z.is_nan()).unwrap_or(f64::NEG_INFINITY);
    (a.date, a.weight_g)
        .cmp(&(b.date, b.weight_g))
        .then(z(a).total_cmp(&z(b)))
        .is_gt()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn age_in_months_is_the_workspace_rule() {
        // Re-exported from `crate::age` (the cases are tested there).
        assert_eq!(age_in_months(d(2024, 1, 31), d(2024, 2, 29)), Some(1));
        assert_eq!(age_in_months(d(2024, 1, 15), d(2024, 1, 14)), None);
    }

    #[test]
    fn builtin_tables_parse() {
        assert_eq!(builtin_kbm_tables().len(), BUILTIN_KBM.len());
        assert!(kbm_table(DEFAULT_KBM_ID).is_some());
        assert!(kbm_table("kbm-lokal-600-200-v1").is_some());
        assert_eq!(RedLine::kms_2010().id, DEFAULT_RED_LINE_ID);
        assert!((RedLine::kms_2010().wfa_z + 3.0).abs() < 1e-12);
        assert_eq!(OrangeLine::buku_kia_2020().id, DEFAULT_ORANGE_LINE_ID);
        assert_eq!(GrowthActions::buku_kia().id, DEFAULT_GROWTH_ACTIONS_ID);
        assert_eq!(GrowthActions::buku_kia().t, GrowthAction::HomeVisit);
        assert_eq!(GrowthActions::buku_kia().two_t, GrowthAction::Refer);
    }

    #[test]
    fn year_month_parses_and_prints() {
        let m: YearMonth = "2025-11".parse().unwrap();
        assert_eq!(m, YearMonth::new(2025, 11).unwrap());
        assert_eq!(m.to_string(), "2025-11");
        for bad in ["2025-13", "2025-1", "25-11", "2025/11", "", "2025-00"] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
    }

    #[test]
    fn invalid_tables_are_rejected() {
        let gap = r#"{"id":"x","name":"x","source":"x","extend_last_row":true,
            "rows":[{"from_month":1,"to_month":1,"min_gain_g":800},
                    {"from_month":3,"to_month":3,"min_gain_g":800}]}"#;
        assert_eq!(
            KbmTable::from_json(gap).map_err(|e| e.key()),
            Err("kms.table_invalid")
        );
        assert_eq!(
            KbmTable::from_json("{").map_err(|e| e.key()),
            Err("kms.table_parse")
        );
    }

    #[test]
    fn beyond_table_without_extension_needs_any_gain() {
        let mut t = kbm_table(DEFAULT_KBM_ID).cloned().unwrap();
        t.extend_last_row = false;
        assert_eq!(t.min_gain_g(25), None);
        assert_eq!(t.min_gain_g(0), Some(800));
        assert_eq!(t.min_gain_g(24), Some(200));
    }
}
