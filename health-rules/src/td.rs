//! Td (tetanus-diphtheria) immunisation of a woman of childbearing age and a pregnant woman:
//! her *status T* (T0 … T5) and the next dose.
//!
//! Rule (Permenkes 12/2017 Penyelenggaraan Imunisasi, imunisasi lanjutan WUS; table in
//! `data/immunisation/td-wus-permenkes-12-2017.json`, id `td-wus-permenkes-12-2017-v1`):
//! - her status is the highest T recorded (T0 when none);
//! - the next dose T(n+1) may be given at least its minimum interval after the dose that
//!   made her T(n): T2 ≥ 4 weeks after T1, T3 ≥ 6 months after T2, T4 ≥ 1 year after T3,
//!   T5 ≥ 1 year after T4; T1 whenever she is T0;
//! - at T5 she has long protection (more than 25 years) and no more Td is given.
//!
//! An earlier status is recorded as an immunisation fact whose vaccine text names the
//! status and where it comes from ([`TdSource`], [`td_vaccine`]): a dose given by the team,
//! one copied from the Buku KIA with its date, or the woman's own answer at the screening.
//! Her answer has no dose date, so it sets no interval: the next dose is due at once.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::common::Label;
use crate::immunisation::{ImmunisationError, Offset};

/// Id of the built-in Td table.
pub const DEFAULT_TD_TABLE_ID: &str = "td-wus-permenkes-12-2017-v1";
const BUILTIN_TD: &str = include_str!("../data/immunisation/td-wus-permenkes-12-2017.json");

/// The highest status: complete, long protection.
pub const T_MAX: u8 = 5;

/// One status of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TdDose {
    /// 1 … 5.
    pub status: u8,
    /// `T1` … `T5`.
    pub label: String,
    /// Least time after the previous status's dose (`None` for T1).
    pub min_interval: Option<Offset>,
    /// Years of protection this status gives (`None`: none; T5's 25 means "more than 25").
    pub protection_years: Option<u32>,
}

/// The versioned Td table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TdTable {
    pub id: String,
    pub name: String,
    pub source: String,
    #[serde(default)]
    pub notes: String,
    /// T1 … T5 in order.
    pub doses: Vec<TdDose>,
}

impl TdTable {
    /// Parse and check a table: T1 … T5 in order, an interval for each but T1.
    pub fn from_json(json: &str) -> Result<Self, ImmunisationError> {
        let t: Self =
            serde_json::from_str(json).map_err(|e| ImmunisationError::TableParse(e.to_string()))?;
        let in_order = t.doses.len() == usize::from(T_MAX)
            && t.doses.iter().enumerate().all(|(i, d)| {
                usize::from(d.status) == i + 1
                    && d.label == format!("T{}", d.status)
                    && (d.status == 1) == d.min_interval.is_none()
            });
        if !in_order {
            return Err(ImmunisationError::TableInvalid(format!(
                "{}: doses must be T1…T5 in order, with a min_interval for all but T1",
                t.id
            )));
        }
        Ok(t)
    }

    /// The built-in table (Permenkes 12/2017).
    pub fn builtin() -> &'static TdTable {
        static T: OnceLock<TdTable> = OnceLock::new();
        T.get_or_init(|| {
            TdTable::from_json(BUILTIN_TD)
                .expect("embedded Td table parses (checked by test builtin_td_table_parses)")
        })
    }

    /// The row of status `n` (1 … 5).
    pub fn dose(&self, n: u8) -> Option<&TdDose> {
        self.doses.iter().find(|d| d.status == n)
    }
}

/// Where a recorded status comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TdSource {
    /// Given by the team (posyandu, home visit), dated the day it was given.
    Given,
    /// Copied from the Buku KIA, kohort or medical record, with the date written there.
    BukuKia,
    /// The woman's own answer at the screening ("status T2"), dated the day she answered.
    Told,
}

impl TdSource {
    const fn suffix(self) -> &'static str {
        match self {
            Self::Given => "",
            Self::BukuKia => " (Buku KIA)",
            Self::Told => " (kata ibu)",
        }
    }
}

/// The vaccine text of an immunisation fact for status `n` from `source`:
/// `Td T3`, `Td T2 (Buku KIA)`, `Td T2 (kata ibu)`.
pub fn td_vaccine(n: u8, source: TdSource) -> String {
    format!("Td T{n}{}", source.suffix())
}

/// The status and source a recorded vaccine text names (ignoring case, spaces and
/// punctuation); `None` when it is not a Td status (`Td` without a T, `DPT-HB-Hib 1`, `T6`).
pub fn parse_td_vaccine(vaccine: &str) -> Option<(u8, TdSource)> {
    let norm: String = vaccine
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    let rest = norm.strip_prefix("TDT")?;
    let mut chars = rest.chars();
    let n = chars.next()?.to_digit(10)?;
    let n = u8::try_from(n).ok().filter(|n| (1..=T_MAX).contains(n))?;
    let source = match chars.as_str() {
        "" => TdSource::Given,
        "BUKUKIA" => TdSource::BukuKia,
        "KATAIBU" => TdSource::Told,
        _ => return None,
    };
    Some((n, source))
}

/// One recorded status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TdRecord {
    /// 1 … 5.
    pub status: u8,
    pub date: NaiveDate,
    pub source: TdSource,
}

/// What to do about Td today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TdNext {
    /// Give `next` (T1 … T5) today.
    Due { next: u8 },
    /// `next` may be given from `earliest` (inclusive).
    NotYetDue { next: u8, earliest: NaiveDate },
    /// T5: long protection, no more Td.
    Complete,
}

/// A woman's Td status on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TdStatus {
    /// 0 (none recorded) … 5.
    pub status: u8,
    /// The day of the dose that made her status, when known (not for her own answer).
    pub last_dose: Option<NaiveDate>,
    /// Where her status comes from (`None` at T0).
    pub source: Option<TdSource>,
    /// Years of protection her status gives (`None` at T0 and T1).
    pub protection_years: Option<u32>,
    pub next: TdNext,
    /// The table used (id).
    pub table: String,
}

impl TdStatus {
    /// The state in words.
    pub fn label(&self) -> Label {
        match self.next {
            TdNext::Due { .. } => Label {
                key: "td.state.due",
                id: "Dosis Td berikutnya boleh diberikan hari ini",
                en: "The next Td dose can be given today",
            },
            TdNext::NotYetDue { .. } => Label {
                key: "td.state.not_yet_due",
                id: "Dosis Td berikutnya belum waktunya",
                en: "The next Td dose is not due yet",
            },
            TdNext::Complete => Label {
                key: "td.state.complete",
                id: "Status T5: terlindungi jangka panjang, Td tidak perlu lagi",
                en: "Status T5: long protection, no more Td needed",
            },
        }
    }
}

/// A woman's Td status on `today` from her recorded statuses (any order, repeats allowed).
/// The dose that made her status is the earliest dated record (given or copied) of that
/// status; her own answer sets no interval.
pub fn td_status(
    table: &TdTable,
    records: &[TdRecord],
    today: NaiveDate,
) -> Result<TdStatus, ImmunisationError> {
    let status = records
        .iter()
        .map(|r| r.status)
        .filter(|n| (1..=T_MAX).contains(n))
        .max()
        .unwrap_or(0);
    let of_status = || records.iter().filter(move |r| r.status == status);
    let last_dose = of_status()
        .filter(|r| r.source != TdSource::Told)
        .map(|r| r.date)
        .min();
    let source = if status == 0 {
        None
    } else if let Some(d) = last_dose {
        of_status()
            .filter(|r| r.source != TdSource::Told && r.date == d)
            .map(|r| r.source)
            .min_by_key(|s| *s != TdSource::Given)
    } else {
        Some(TdSource::Told)
    };
    let protection_years = table.dose(status).and_then(|d| d.protection_years);
    let next = if status >= T_MAX {
        TdNext::Complete
    } else {
        let next = status + 1;
        let interval = table.dose(next).and_then(|d| d.min_interval);
        let earliest = match (last_dose, interval) {
            (Some(d), Some(i)) => Some(
                i.from(d)
                    .ok_or_else(|| ImmunisationError::DateOutOfRange(format!("T{next}")))?,
            ),
            _ => None,
        };
        match earliest {
            Some(e) if e > today => TdNext::NotYetDue { next, earliest: e },
            _ => TdNext::Due { next },
        }
    };
    Ok(TdStatus {
        status,
        last_dose,
        source,
        protection_years,
        next,
        table: table.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn rec(status: u8, date: &str, source: TdSource) -> TdRecord {
        TdRecord {
            status,
            date: d(date),
            source,
        }
    }

    #[test]
    fn builtin_td_table_parses() {
        let t = TdTable::builtin();
        assert_eq!(t.id, DEFAULT_TD_TABLE_ID);
        assert!(t.source.contains("Permenkes RI No. 12 Tahun 2017"));
        let intervals: Vec<Option<Offset>> = t.doses.iter().map(|d| d.min_interval).collect();
        assert_eq!(
            intervals,
            vec![
                None,
                Some(Offset {
                    months: 0,
                    days: 28
                }),
                Some(Offset { months: 6, days: 0 }),
                Some(Offset {
                    months: 12,
                    days: 0
                }),
                Some(Offset {
                    months: 12,
                    days: 0
                }),
            ]
        );
    }

    #[test]
    fn bad_td_tables_are_rejected() {
        let mut t: serde_json::Value =
            serde_json::from_str(BUILTIN_TD).expect("the built-in table is JSON");
        t["doses"][2]["min_interval"] = serde_json::Value::Null;
        assert_eq!(
            TdTable::from_json(&t.to_string()).map_err(|e| e.key()),
            Err("immunisation.table_invalid")
        );
        assert_eq!(
            TdTable::from_json("{}").map_err(|e| e.key()),
            Err("immunisation.table_parse")
        );
    }

    /// Status, next dose and its earliest day. Each row names the text it follows.
    #[test]
    fn td_status_table() {
        use TdSource::{BukuKia, Given, Told};
        const PMK: &str = "Permenkes 12/2017, Lampiran, imunisasi lanjutan WUS";
        // (records, today, status, next, source of the row)
        let rows: Vec<(Vec<TdRecord>, &str, u8, TdNext, String)> = vec![
            (
                vec![],
                "2026-12-06",
                0,
                TdNext::Due { next: 1 },
                format!("{PMK}: T1 has no interval; no record = status T0"),
            ),
            (
                vec![rec(1, "2026-11-10", Given)],
                "2026-12-06",
                1,
                TdNext::NotYetDue {
                    next: 2,
                    earliest: d("2026-12-08"),
                },
                format!("{PMK}: T2 4 minggu setelah T1 (28 days)"),
            ),
            (
                vec![rec(1, "2026-11-08", Given)],
                "2026-12-06",
                1,
                TdNext::Due { next: 2 },
                format!("{PMK}: T2 on the 28th day after T1"),
            ),
            (
                vec![rec(1, "2026-05-01", Given), rec(2, "2026-06-05", Given)],
                "2026-12-04",
                2,
                TdNext::NotYetDue {
                    next: 3,
                    earliest: d("2026-12-05"),
                },
                format!("{PMK}: T3 6 bulan setelah T2"),
            ),
            (
                vec![rec(2, "2026-06-05", BukuKia)],
                "2026-12-05",
                2,
                TdNext::Due { next: 3 },
                format!("{PMK}: T3 6 bulan setelah T2, T2's date from the Buku KIA"),
            ),
            (
                vec![rec(3, "2026-01-31", Given)],
                "2027-01-30",
                3,
                TdNext::NotYetDue {
                    next: 4,
                    earliest: d("2027-01-31"),
                },
                format!("{PMK}: T4 1 tahun setelah T3"),
            ),
            (
                vec![rec(4, "2024-02-29", BukuKia)],
                "2025-02-28",
                4,
                TdNext::Due { next: 5 },
                format!("{PMK}: T5 1 tahun setelah T4 (a leap day + 12 months = 28 Feb)"),
            ),
            (
                vec![rec(5, "2020-03-01", Given)],
                "2026-12-06",
                5,
                TdNext::Complete,
                format!("{PMK}: T5, masa perlindungan lebih dari 25 tahun; Td not given at T5"),
            ),
            (
                vec![rec(5, "2026-12-06", Told)],
                "2026-12-06",
                5,
                TdNext::Complete,
                format!("{PMK}: screening of status T; complete (T5) needs no Td"),
            ),
            (
                vec![rec(2, "2026-12-06", Told)],
                "2026-12-06",
                2,
                TdNext::Due { next: 3 },
                format!("{PMK}: screening of status T; her answer has no dose day (project rule)"),
            ),
            (
                vec![rec(2, "2026-12-01", Told), rec(3, "2026-12-01", Given)],
                "2026-12-06",
                3,
                TdNext::NotYetDue {
                    next: 4,
                    earliest: d("2027-12-01"),
                },
                format!("{PMK}: T3 given after her answer T2; T4 1 tahun setelah T3"),
            ),
            (
                vec![
                    rec(2, "2026-03-01", Given),
                    rec(2, "2026-02-01", BukuKia),
                    rec(1, "2026-01-01", BukuKia),
                ],
                "2026-08-15",
                2,
                TdNext::Due { next: 3 },
                format!("{PMK}: T2 recorded twice counts from its first day (T3 from 2026-08-01)"),
            ),
        ];
        let table = TdTable::builtin();
        for (records, today, status, next, source) in rows {
            let got = td_status(table, &records, d(today)).expect("a status");
            assert_eq!((got.status, got.next), (status, next), "{source}");
            assert_eq!(got.table, DEFAULT_TD_TABLE_ID);
        }
    }

    #[test]
    fn protection_source_and_last_dose() {
        let t = TdTable::builtin();
        let s = td_status(
            t,
            &[
                rec(3, "2025-01-10", TdSource::BukuKia),
                rec(3, "2025-01-10", TdSource::Given),
            ],
            d("2026-12-06"),
        )
        .expect("a status");
        assert_eq!(s.protection_years, Some(5));
        assert_eq!(s.last_dose, Some(d("2025-01-10")));
        assert_eq!(s.source, Some(TdSource::Given));
        assert_eq!(s.label().key, "td.state.due");
        let told = td_status(t, &[rec(1, "2026-12-06", TdSource::Told)], d("2026-12-06"))
            .expect("a status");
        assert_eq!(
            (told.last_dose, told.source, told.protection_years),
            (None, Some(TdSource::Told), None)
        );
        let none = td_status(t, &[], d("2026-12-06")).expect("a status");
        assert_eq!((none.source, none.protection_years), (None, None));
        let t5 = td_status(t, &[rec(5, "2010-01-01", TdSource::Given)], d("2026-12-06"))
            .expect("a status");
        assert_eq!(
            (t5.protection_years, t5.label().key),
            (Some(25), "td.state.complete")
        );
    }

    #[test]
    fn vaccine_texts_round_trip_and_others_are_not_td() {
        for n in 1..=T_MAX {
            for s in [TdSource::Given, TdSource::BukuKia, TdSource::Told] {
                assert_eq!(parse_td_vaccine(&td_vaccine(n, s)), Some((n, s)));
            }
        }
        // (text, parsed)
        let rows = [
            ("Td T3", Some((3, TdSource::Given))),
            ("td t2 (buku kia)", Some((2, TdSource::BukuKia))),
            ("TD-T5 kata ibu", Some((5, TdSource::Told))),
            ("Td", None),
            ("Td T6", None),
            ("Td T0", None),
            ("Td T2 (bidan)", None),
            ("DPT-HB-Hib 1", None),
            ("MR1", None),
            ("", None),
        ];
        for (text, want) in rows {
            assert_eq!(parse_td_vaccine(text), want, "{text}");
        }
    }
}
