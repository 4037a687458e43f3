//! SKDN and the monthly posyandu report (F1), by age band and sex, with a CSV rendering.
//!
//! Rule (`shared/domain/ILP.md`, "Growth monitoring"): for one posyandu and month,
//! - **the age of a child** is taken on its *reference day*: the day of this month's
//!   weighing for a weighed child (the weighing that counts, see [`crate::kms`]);
//!   otherwise the posyandu day when the caller gives it
//!   ([`ReportOptions::posyandu_day`]); otherwise the last day of the month. The band,
//!   the 0–59 months range (S), vitamin A and ASI eksklusif all use that one age, so a
//!   child weighed at 59 months who turns 60 later in the month is counted;
//! - **S**: under-fives of the area (0–59 months on the reference day);
//! - **K**: those with a KMS / Buku KIA (a child weighed this month counts as having one,
//!   so D ≤ K always holds);
//! - **N, T, O, B**: this month's KMS result (see [`crate::kms`]); **D** = N + T + O + B
//!   (weighed this month); **absent** = K − D; **2T** and **BGM** among the weighed;
//! - **vitamin A**: children given vitamin A this month who were 6–59 months old on the
//!   day of the dose (the campaign months are February and August, flagged by
//!   `vitamin_a_month`);
//! - **ASI eksklusif**: children 0–5 months (on the reference day) recorded as
//!   exclusively breastfed this month;
//! - by age band 0–5, 6–11, 12–23, 24–59 months (completed months on the reference day)
//!   and by sex, with totals;
//! - ratios K/S, D/S, D/K, N/D, N/S as fractions (0–1), and N/D′ with D′ = D − O − B
//!   (the children who could gain: weighed this month and last month), `None` when the
//!   denominator is 0.
//!
//! A child whose weighings cannot be assessed (a weighing before the birth date, an
//! impossible weight — even in an old month) is listed in [`MonthlyReport::problems`]
//! and left out of D, N, T, O, B, 2T and BGM for that month (it stays in S and K, so it
//! counts as absent until the record is corrected); every other child is counted.
//!
//! The caller passes the children of the posyandu (active, not moved or died).

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::age::{UNDER_FIVE_MONTHS, age_in_months};
use crate::common::Sex;
use crate::kms::{self, KbmTable, KmsError, KmsResult, RedLine, Weighing, YearMonth};

/// Errors while building a report. `key()` gives the translation key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// No longer returned by [`monthly_report`] (children with bad records are listed in
    /// [`MonthlyReport::problems`]); kept for compatibility.
    #[error("child number {index} in the list: {source}")]
    Child {
        index: usize,
        #[source]
        source: KmsError,
    },
    #[error("month {0} is outside the supported calendar")]
    MonthOutOfRange(YearMonth),
}

impl ReportError {
    /// Stable message key for the app's translation files (a child's error keeps the
    /// KMS key; the index is in the error).
    pub fn key(&self) -> &'static str {
        match self {
            Self::Child { source, .. } => source.key(),
            Self::MonthOutOfRange(_) => "report.month_out_of_range",
        }
    }

    /// The values of [`Self::key`]'s text (a child's error: the KMS values; a month: `month`
    /// as `YYYY-MM`).
    pub fn params(&self) -> crate::Params {
        match self {
            Self::Child { source, .. } => source.params(),
            Self::MonthOutOfRange(m) => {
                crate::common::params([("month", format!("{}-{:02}", m.year, m.month))])
            }
        }
    }
}

/// One exclusive-breastfeeding record (E0–E6 on the KMS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreastfeedingRecord {
    pub month: YearMonth,
    pub exclusive: bool,
}

/// One child of the posyandu as the report needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportChild {
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// Holds a KMS or Buku KIA.
    pub has_kms: bool,
    #[serde(default)]
    pub weighings: Vec<Weighing>,
    /// Dates vitamin A was given.
    #[serde(default)]
    pub vitamin_a: Vec<NaiveDate>,
    #[serde(default)]
    pub breastfeeding: Vec<BreastfeedingRecord>,
}

/// A child the report could not fully count, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportProblem {
    /// Position of the child in the list given to [`monthly_report`].
    pub index: usize,
    /// Message key, e.g. `kms.implausible_weight`.
    pub key: &'static str,
    /// The values of the key's text.
    pub params: crate::Params,
}

/// Options of [`monthly_report_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// The posyandu day of the month: the age of a child not weighed this month is taken
    /// on this day (default: the last day of the month).
    #[serde(default)]
    pub posyandu_day: Option<NaiveDate>,
}

/// Report age bands (months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeBand {
    #[serde(rename = "0-5")]
    M0To5,
    #[serde(rename = "6-11")]
    M6To11,
    #[serde(rename = "12-23")]
    M12To23,
    #[serde(rename = "24-59")]
    M24To59,
}

impl AgeBand {
    pub const ALL: [AgeBand; 4] = [Self::M0To5, Self::M6To11, Self::M12To23, Self::M24To59];

    /// The band of an age in completed months; `None` from 60 months.
    pub fn of(age_months: u32) -> Option<Self> {
        match age_months {
            0..=5 => Some(Self::M0To5),
            6..=11 => Some(Self::M6To11),
            12..=23 => Some(Self::M12To23),
            24..=59 => Some(Self::M24To59),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::M0To5 => "0-5",
            Self::M6To11 => "6-11",
            Self::M12To23 => "12-23",
            Self::M24To59 => "24-59",
        }
    }
}

/// The counts of one report cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub s: u32,
    pub k: u32,
    pub d: u32,
    pub n: u32,
    pub t: u32,
    pub o: u32,
    pub b: u32,
    /// K − D.
    pub absent: u32,
    pub two_t: u32,
    pub bgm: u32,
    pub vitamin_a: u32,
    pub asi_eksklusif: u32,
}

impl std::ops::Add for Counts {
    type Output = Counts;

    /// Cell-wise sum (bands into totals, sexes into both).
    fn add(self, o: Counts) -> Counts {
        Counts {
            s: self.s + o.s,
            k: self.k + o.k,
            d: self.d + o.d,
            n: self.n + o.n,
            t: self.t + o.t,
            o: self.o + o.o,
            b: self.b + o.b,
            absent: self.absent + o.absent,
            two_t: self.two_t + o.two_t,
            bgm: self.bgm + o.bgm,
            vitamin_a: self.vitamin_a + o.vitamin_a,
            asi_eksklusif: self.asi_eksklusif + o.asi_eksklusif,
        }
    }
}

impl Counts {
    /// The SKDN ratios of these counts.
    pub fn ratios(&self) -> Ratios {
        let r = |num: u32, den: u32| (den > 0).then(|| f64::from(num) / f64::from(den));
        Ratios {
            k_s: r(self.k, self.s),
            d_s: r(self.d, self.s),
            d_k: r(self.d, self.k),
            n_d: r(self.n, self.d),
            n_s: r(self.n, self.s),
            n_d_prime: r(self.n, self.d.saturating_sub(self.o).saturating_sub(self.b)),
        }
    }
}

/// SKDN ratios as fractions; `None` when the denominator is zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    pub k_s: Option<f64>,
    pub d_s: Option<f64>,
    pub d_k: Option<f64>,
    pub n_d: Option<f64>,
    pub n_s: Option<f64>,
    /// N / D′ with D′ = D − O − B (weighed this month and last month).
    #[serde(default)]
    pub n_d_prime: Option<f64>,
}

/// One row: an age band (or all ages) and a sex (or both).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// `None`: all ages (0–59 months).
    pub band: Option<AgeBand>,
    /// `None`: both sexes.
    pub sex: Option<Sex>,
    pub counts: Counts,
    pub ratios: Ratios,
}

/// The monthly posyandu report (SKDN, F1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyReport {
    pub posyandu_id: String,
    pub month: YearMonth,
    pub kbm_table_id: String,
    pub red_line_id: String,
    /// February or August (vitamin A campaign months).
    pub vitamin_a_month: bool,
    /// For each band then all ages: male, female, both. The last row is the total.
    pub rows: Vec<ReportRow>,
    /// Children whose records could not be assessed (left out of D, N, T, O, B).
    pub problems: Vec<ReportProblem>,
}

impl MonthlyReport {
    /// The cell for a band (`None` = all ages) and sex (`None` = both).
    pub fn row(&self, band: Option<AgeBand>, sex: Option<Sex>) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.band == band && r.sex == sex)
    }

    /// All ages, both sexes.
    pub fn total(&self) -> Counts {
        self.row(None, None).map(|r| r.counts).unwrap_or_default()
    }
}

/// Build the report of one posyandu for one month (ages of unweighed children on the
/// last day of the month). See [`monthly_report_with`].
pub fn monthly_report(
    posyandu_id: &str,
    month: YearMonth,
    children: &[ReportChild],
    kbm: &KbmTable,
    red_line: &RedLine,
) -> Result<MonthlyReport, ReportError> {
    monthly_report_with(
        posyandu_id,
        month,
        children,
        kbm,
        red_line,
        &ReportOptions::default(),
    )
}

/// Build the report of one posyandu for one month. Fails only when the month is outside
/// the calendar; a child with bad records is listed in [`MonthlyReport::problems`].
pub fn monthly_report_with(
    posyandu_id: &str,
    month: YearMonth,
    children: &[ReportChild],
    kbm: &KbmTable,
    red_line: &RedLine,
    options: &ReportOptions,
) -> Result<MonthlyReport, ReportError> {
    let end = month
        .last_day()
        .ok_or(ReportError::MonthOutOfRange(month))?;
    let default_day = options
        .posyandu_day
        .filter(|d| YearMonth::of(*d) == month)
        .unwrap_or(end);
    // cells[band][0 = male, 1 = female]
    let mut cells = [[Counts::default(); 2]; 4];
    let mut problems = Vec::new();
    for (index, child) in children.iter().enumerate() {
        let this_month = child
            .weighings
            .iter()
            .any(|w| YearMonth::of(w.date) == month);
        let result = if this_month {
            // Only weighings up to this month matter for this month's result.
            let upto: Vec<Weighing> = child
                .weighings
                .iter()
                .filter(|w| w.date <= end)
                .cloned()
                .collect();
            match kms::assess(child.birth_date, &upto, kbm, red_line) {
                Ok(mut results) => results.pop().filter(|r| r.month == month),
                Err(e) => {
                    problems.push(ReportProblem {
                        index,
                        key: e.key(),
                        params: e.params(),
                    });
                    None
                }
            }
        } else {
            None
        };
        // The reference day: this month's weighing that counts, else the posyandu day,
        // else the last day of the month.
        let reference_day = result.as_ref().map_or(default_day, |r| r.date);
        let Some(band) = age_in_months(child.birth_date, reference_day).and_then(AgeBand::of)
        else {
            continue;
        };
        let sex_i = match child.sex {
            Sex::Male => 0,
            Sex::Female => 1,
        };
        let c = &mut cells[band as usize][sex_i];
        c.s += 1;
        c.k += u32::from(child.has_kms || this_month);
        if let Some(r) = result {
            c.d += 1;
            match r.result {
                KmsResult::N => c.n += 1,
                KmsResult::T => c.t += 1,
                KmsResult::O => c.o += 1,
                KmsResult::B => c.b += 1,
            }
            c.two_t += u32::from(r.two_t);
            c.bgm += u32::from(r.bgm == Some(true));
        }
        c.absent = c.k - c.d;
        // Vitamin A counts when the child was 6–59 months old on the day of the dose.
        let got_vit_a = child.vitamin_a.iter().any(|d| {
            YearMonth::of(*d) == month
                && age_in_months(child.birth_date, *d)
                    .is_some_and(|m| (6..UNDER_FIVE_MONTHS).contains(&m))
        });
        c.vitamin_a += u32::from(got_vit_a);
        let exclusive = child
            .breastfeeding
            .iter()
            .any(|b| b.month == month && b.exclusive);
        c.asi_eksklusif += u32::from(band == AgeBand::M0To5 && exclusive);
    }

    let mut rows = Vec::with_capacity(15);
    let mut all = [Counts::default(); 2];
    let mut push = |band, sex, counts: Counts| {
        rows.push(ReportRow {
            band,
            sex,
            counts,
            ratios: counts.ratios(),
        });
    };
    for band in AgeBand::ALL {
        let [m, f] = cells[band as usize];
        all = [all[0] + m, all[1] + f];
        push(Some(band), Some(Sex::Male), m);
        push(Some(band), Some(Sex::Female), f);
        push(Some(band), None, m + f);
    }
    push(None, Some(Sex::Male), all[0]);
    push(None, Some(Sex::Female), all[1]);
    push(None, None, all[0] + all[1]);

    Ok(MonthlyReport {
        posyandu_id: posyandu_id.to_string(),
        month,
        kbm_table_id: kbm.id.clone(),
        red_line_id: red_line.id.clone(),
        vitamin_a_month: matches!(month.month, 2 | 8),
        rows,
        problems,
    })
}

/// CSV header of [`to_csv`]. Sex: L = laki-laki, P = perempuan, L+P = both; ratios in
/// percent with one decimal, empty when the denominator is zero. `N/D'_%` is N over
/// D′ = D − O − B.
pub const CSV_HEADER: &str = "posyandu,bulan,umur_bulan,jenis_kelamin,S,K,D,N,T,O,B,\
tidak_hadir,2T,BGM,vitamin_A,ASI_eksklusif,K/S_%,D/S_%,D/K_%,N/D_%,N/S_%,N/D'_%";

/// Render the report as CSV (header plus one line per row, `\n` line ends).
pub fn to_csv(report: &MonthlyReport) -> String {
    let mut out = String::with_capacity(128 * (report.rows.len() + 1));
    out.push_str(CSV_HEADER);
    out.push('\n');
    let posyandu = csv_field(&report.posyandu_id);
    for row in &report.rows {
        let c = &row.counts;
        let band = row.band.map_or("0-59", AgeBand::as_str);
        let sex = match row.sex {
            Some(Sex::Male) => "L",
            Some(Sex::Female) => "P",
            None => "L+P",
        };
        let pct = |r: Option<f64>| r.map(|v| format!("{:.1}", v * 100.0)).unwrap_or_default();
        let r = &row.ratios;
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{posyandu},{},{band},{sex},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            report.month,
            c.s,
            c.k,
            c.d,
            c.n,
            c.t,
            c.o,
            c.b,
            c.absent,
            c.two_t,
            c.bgm,
            c.vitamin_a,
            c.asi_eksklusif,
            pct(r.k_s),
            pct(r.d_s),
            pct(r.d_k),
            pct(r.n_d),
            pct(r.n_s),
            pct(r.n_d_prime),
        );
    }
    out
}

/// Quote a CSV field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
