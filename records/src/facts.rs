//! Stored facts as health-rules wants them: live measurements per day, weighings for the
//! KMS, and the person's sex and birth date read from their stored text.
//!
//! The input is [`Fact`]: one row of the `facts` read table (the tablet's and the server's
//! read model have the same columns), with its body decoded and its supersession resolved.

use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::growth::{self, Measures, Position};
use health_rules::kms::Weighing;
use serde::Serialize;
use serde_json::Value;
use sync_protocol::{Body, EntityKind, RecordId};

/// One stored fact (a row of `facts`: `id`, `kind`, `date`, `body_json`, `supersedes`,
/// the live fact that supersedes it, and the person it was saved under). field-core shows
/// it in timelines as `TimelineEntry`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub id: RecordId,
    pub kind: EntityKind,
    /// `YYYY-MM-DD` as stored.
    pub date: String,
    pub body: Body,
    /// The fact this one corrects.
    pub supersedes: Option<RecordId>,
    /// A live fact that corrects this one: show it struck through, or hide it.
    pub superseded_by: Option<RecordId>,
    /// The person record it was saved under (differs from the timeline's person after a merge).
    pub person: Option<String>,
}

/// A stored row that does not read as a [`Fact`].
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("record id {0:?}")]
    RecordId(String),
    #[error("record kind {0:?}")]
    Kind(String),
    #[error("body of {id}: {source}")]
    Body {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Fact {
    /// A fact from the columns of a `facts` row as both read tables store them (the
    /// device's and the server's read model): ids as text, the kind's wire name, the body
    /// as JSON text, and the live fact that supersedes it, if any.
    pub fn from_columns(
        id: &str,
        kind: &str,
        date: String,
        body_json: &str,
        supersedes: Option<&str>,
        superseded_by: Option<&str>,
        person: Option<String>,
    ) -> Result<Self, RowError> {
        let rid = |s: &str| {
            s.parse::<RecordId>()
                .map_err(|_| RowError::RecordId(s.to_string()))
        };
        Ok(Self {
            id: rid(id)?,
            kind: serde_json::from_value(Value::String(kind.to_string()))
                .map_err(|_| RowError::Kind(kind.to_string()))?,
            date,
            body: serde_json::from_str(body_json).map_err(|source| RowError::Body {
                id: id.to_string(),
                source,
            })?,
            supersedes: supersedes.map(rid).transpose()?,
            superseded_by: superseded_by.map(rid).transpose()?,
            person,
        })
    }

    /// Not corrected by a later fact.
    pub fn is_live(&self) -> bool {
        self.superseded_by.is_none()
    }

    /// The fact's day, when its stored date is a `YYYY-MM-DD` date.
    pub fn day(&self) -> Option<NaiveDate> {
        parse_date(&self.date)
    }

    /// A text field of the body.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(Value::as_str)
    }
}

/// A record (or part of a record) health-rules could not use, and why. The rest of the
/// answer was built without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthProblem {
    /// The fact to check, when one is to blame.
    pub fact: Option<RecordId>,
    /// Message key, e.g. `immunisation.given_before_birth`.
    pub key: String,
    /// The values of the key's text (`date`, `dose`, `birth` …): ISO dates, dot decimals.
    pub params: health_rules::Params,
}

impl HealthProblem {
    pub fn new(fact: Option<RecordId>, key: &str, params: health_rules::Params) -> Self {
        Self {
            fact,
            key: key.to_string(),
            params,
        }
    }
}

/// A stored `YYYY-MM-DD` date. The written form (ten characters, digits and dashes) is read
/// directly; anything else goes through chrono's `%Y-%m-%d`, which gives the same answer for
/// the written form and also takes its looser ones (`2024-1-5`, signed years).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10))
    {
        return NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A stored date as written: `YYYY-MM-DD`.
pub fn ymd(d: NaiveDate) -> String {
    use chrono::Datelike;
    if (0..=9999).contains(&d.year()) {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// The sex as stored (`male`, `female`).
pub fn sex(s: Option<&str>) -> Option<Sex> {
    match s {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        _ => None,
    }
}

/// The position of a length/height as stored (`lying`, `standing`).
pub fn position(s: Option<&str>) -> Option<Position> {
    match s {
        Some("lying") => Some(Position::Lying),
        Some("standing") => Some(Position::Standing),
        _ => None,
    }
}

/// One live measurement (not corrected by a later fact, not retracted).
#[derive(Debug, Clone, PartialEq)]
pub struct LiveMeasurement {
    pub id: RecordId,
    pub date: NaiveDate,
    /// Schema type: `weight`, `length_height`, `head`, `muac`, `waist`, `bp_systolic`, …
    pub kind: String,
    pub value: f64,
    pub position: Option<Position>,
    /// The visit it was recorded in.
    pub visit: Option<String>,
    /// Bilateral pitting oedema seen with this weight (body schema 2; absent: not seen).
    pub oedema: bool,
}

/// The live measurements of a timeline, oldest first (the order of `entries` within a day).
pub fn live_measurements(entries: &[Fact]) -> Vec<LiveMeasurement> {
    entries
        .iter()
        .filter(|e| e.kind == EntityKind::Measurement && e.is_live())
        .filter_map(|e| {
            Some(LiveMeasurement {
                id: e.id,
                date: e.day()?,
                kind: e.text("type")?.to_string(),
                value: e.body.get("value")?.as_f64()?,
                position: position(e.text("position")),
                visit: e.text("visit").map(str::to_string),
                oedema: e.body.get("oedema").and_then(serde_json::Value::as_bool) == Some(true),
            })
        })
        .collect()
}

/// The growth measurements of one day (the latest recorded value of each type wins).
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub measures: Measures,
    /// The fact behind the weight and the length/height.
    pub weight_fact: Option<RecordId>,
    pub length_fact: Option<RecordId>,
}

/// Growth measurements grouped by day, oldest first; days without weight, length/height,
/// head or arm circumference are left out.
pub fn days(measurements: &[LiveMeasurement]) -> Vec<Day> {
    let mut out: Vec<Day> = Vec::new();
    for m in measurements {
        if out.last().is_none_or(|d| d.date != m.date) {
            out.push(Day {
                date: m.date,
                measures: Measures::default(),
                weight_fact: None,
                length_fact: None,
            });
        }
        let Some(day) = out.last_mut() else { continue };
        match m.kind.as_str() {
            "weight" => {
                day.measures.weight_kg = Some(m.value);
                day.measures.oedema = m.oedema;
                day.weight_fact = Some(m.id);
            }
            "length_height" => {
                day.measures.length_height_cm = Some(m.value);
                day.measures.position = m.position;
                day.length_fact = Some(m.id);
            }
            "head" => day.measures.head_cm = Some(m.value),
            "muac" => day.measures.muac_cm = Some(m.value),
            _ => {}
        }
    }
    out.retain(|d| d.measures != Measures::default());
    out
}

/// Weighings of an under-five ([`crate::UNDER_FIVE_MONTHS`]) for the KMS, with their
/// weight-for-age z (for BGM).
pub fn weighings(sex: Sex, birth: NaiveDate, days: &[Day]) -> Vec<Weighing> {
    days.iter()
        .filter(|d| crate::is_under_five(birth, d.date))
        .filter_map(|d| {
            let w = d.measures.weight_kg?;
            let wfa_z = growth::age_in_days(birth, d.date)
                .ok()
                .and_then(|age| growth::weight_for_age_z(sex, age, w).ok());
            Some(Weighing {
                date: d.date,
                weight_g: kg_to_g(w),
                wfa_z,
            })
        })
        .collect()
}

/// Kilograms to whole grams (0 for nonsense, which the KMS rules refuse).
pub fn kg_to_g(kg: f64) -> u32 {
    let g = (kg * 1000.0).round();
    if g.is_finite() && g >= 0.0 && g <= f64::from(u32::MAX) {
        g as u32
    } else {
        0
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn rid(n: u64) -> RecordId {
        format!("00000000-0000-7000-8000-{n:012}")
            .parse()
            .expect("record id")
    }

    pub(crate) fn fact(n: u64, kind: EntityKind, date: &str, body: Value) -> Fact {
        Fact {
            id: rid(n),
            kind,
            date: date.into(),
            body: body.as_object().cloned().unwrap_or_default(),
            supersedes: None,
            superseded_by: None,
            person: Some("p".into()),
        }
    }

    #[test]
    fn a_fact_from_its_stored_columns() {
        let f = Fact::from_columns(
            &rid(1).to_string(),
            "measurement",
            "2025-01-10".into(),
            r#"{"type":"weight","value":8.5}"#,
            None,
            Some(&rid(2).to_string()),
            Some("p".into()),
        )
        .expect("fact");
        assert_eq!(f.kind, EntityKind::Measurement);
        assert_eq!(f.text("type"), Some("weight"));
        assert!(!f.is_live());
        assert_eq!(f.day(), parse_date("2025-01-10"));
        let bad = |kind: &str, body: &str, id: &str| {
            Fact::from_columns(id, kind, "2025-01-10".into(), body, None, None, None)
        };
        let id = rid(1).to_string();
        assert!(matches!(bad("nonsense", "{}", &id), Err(RowError::Kind(_))));
        assert!(matches!(bad("visit", "{", &id), Err(RowError::Body { .. })));
        assert!(matches!(
            bad("visit", "{}", "x"),
            Err(RowError::RecordId(_))
        ));
    }

    #[test]
    fn grams_never_overflow() {
        assert_eq!(kg_to_g(10.25), 10_250);
        assert_eq!(kg_to_g(f64::NAN), 0);
        assert_eq!(kg_to_g(-1.0), 0);
        assert_eq!(kg_to_g(1e300), 0);
    }

    #[test]
    fn days_keep_the_latest_value_and_skip_corrected_facts() {
        let m = |n, date, ty: &str, v: f64| {
            fact(
                n,
                EntityKind::Measurement,
                date,
                serde_json::json!({"type": ty, "value": v, "position": "lying"}),
            )
        };
        let mut corrected = m(1, "2025-01-10", "weight", 9.0);
        corrected.superseded_by = Some(rid(2));
        let entries = vec![
            corrected,
            m(2, "2025-01-10", "weight", 8.0),
            m(3, "2025-01-10", "length_height", 70.0),
            m(4, "2025-02-10", "bp_systolic", 120.0),
            m(5, "2025-03-10", "weight", 8.6),
        ];
        let live = live_measurements(&entries);
        assert_eq!(live.len(), 4);
        let d = days(&live);
        assert_eq!(d.len(), 2, "a day with only blood pressure is left out");
        assert_eq!(d[0].measures.weight_kg, Some(8.0));
        assert_eq!(d[0].weight_fact, Some(rid(2)));
        assert_eq!(d[0].measures.position, Some(Position::Lying));
        assert_eq!(d[1].measures.weight_kg, Some(8.6));
    }

    #[test]
    fn weighings_stop_at_five_years() {
        let birth = NaiveDate::from_ymd_opt(2020, 3, 1).expect("date");
        let day = |y, m, d, kg| Day {
            date: NaiveDate::from_ymd_opt(y, m, d).expect("date"),
            measures: Measures {
                weight_kg: Some(kg),
                ..Measures::default()
            },
            weight_fact: None,
            length_fact: None,
        };
        let w = weighings(
            health_rules::Sex::Female,
            birth,
            &[day(2025, 2, 28, 16.0), day(2025, 3, 1, 16.1)],
        );
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].weight_g, 16_000);
        assert!(w[0].wfa_z.is_some());
    }
}

#[cfg(test)]
mod date_tests {
    use super::{parse_date, ymd};
    use chrono::NaiveDate;

    /// The direct reading of the written form answers as chrono's `%Y-%m-%d` does.
    #[test]
    fn parse_date_agrees_with_chrono() {
        let chrono = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        for s in [
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-12-31",
            "0000-01-01",
            "9999-12-31",
            "2024-1-05",
            "2024-01-5",
            "2024/01/05",
            "20240105",
            " 2024-01-05",
            "2024-01-05 ",
            "2024-0a-05",
            "+2024-01-05",
            "",
            "２０２４-01-05",
        ] {
            assert_eq!(parse_date(s), chrono(s), "{s:?}");
        }
        let mut d = NaiveDate::from_ymd_opt(1999, 1, 1).expect("date");
        while d.format("%Y").to_string() != "2031" {
            let s = ymd(d);
            assert_eq!(s, d.format("%Y-%m-%d").to_string());
            assert_eq!(parse_date(&s), Some(d));
            d = d.succ_opt().expect("next day");
        }
    }
}
