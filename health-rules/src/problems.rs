//! Every problem key health-rules can hand to the app, with the names of its parameters,
//! for the app's key-coverage test (each key needs a text in every UI language).

use chrono::NaiveDate;

use crate::checks::ChecksError;
use crate::growth::{GrowthError, Indicator};
use crate::immunisation::ImmunisationError;
use crate::kms::{KmsError, YearMonth};
use crate::pregnancy::PregnancyError;
use crate::report::ReportError;
use crate::tasks::TaskError;

/// `(key, parameter names)` of every problem a rule can report (one row per error variant,
/// plus the check's own date problem).
pub fn problem_keys() -> Vec<(&'static str, Vec<&'static str>)> {
    let d = NaiveDate::MIN;
    let s = String::new;
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    let mut add = |key: &'static str, params: crate::Params| {
        out.push((key, params.into_keys().collect()));
    };
    for e in [
        ImmunisationError::UnknownDose(s()),
        ImmunisationError::GivenBeforeBirth {
            dose_id: s(),
            date: d,
        },
        ImmunisationError::GivenInFuture {
            dose_id: s(),
            date: d,
        },
        ImmunisationError::DateOutOfRange(s()),
        ImmunisationError::TableParse(s()),
        ImmunisationError::TableInvalid(s()),
    ] {
        add(e.key(), e.params());
    }
    let kms = [
        KmsError::WeighingBeforeBirth { date: d, birth: d },
        KmsError::ImplausibleWeight {
            date: d,
            weight_g: 0,
        },
        KmsError::TableParse(s()),
        KmsError::TableInvalid(s()),
    ];
    for e in &kms {
        add(e.key(), e.params());
    }
    for e in [
        PregnancyError::DateBeforeHpht { date: d, hpht: d },
        PregnancyError::DateOutOfRange(d),
        PregnancyError::ImplausibleLila(0.0),
        PregnancyError::ImplausibleHb(0.0),
        PregnancyError::TableParse(s()),
        PregnancyError::TableInvalid(s()),
    ] {
        add(e.key(), e.params());
    }
    let i = Indicator::WeightForAge;
    for e in [
        GrowthError::MeasureBeforeBirth {
            birth_date: d,
            measure_date: d,
        },
        GrowthError::AgeOutOfRange { age_days: 0 },
        GrowthError::IndicatorAgeOutOfRange {
            indicator: i,
            age_days: 0,
        },
        GrowthError::LengthOutOfRange {
            indicator: i,
            length_cm: 0.0,
            min: 0.0,
            max: 0.0,
        },
        GrowthError::InvalidValue {
            what: "weight (kg)",
            value: 0.0,
            min: 0.0,
            max: 0.0,
        },
        GrowthError::NotAgeBased { indicator: i },
        GrowthError::NotLengthBased { indicator: i },
        GrowthError::WeightOutOfRange {
            indicator: i,
            weight_kg: 0.0,
            min: 0.0,
            max: 0.0,
        },
        GrowthError::Oedema,
        GrowthError::NoMeasurement,
    ] {
        add(e.key(), e.params());
    }
    for e in [ChecksError::TableParse(s()), ChecksError::TableInvalid(s())] {
        add(e.key(), e.params());
    }
    let e = TaskError::DateOutOfRange;
    add(e.key(), e.params());
    let e = ReportError::MonthOutOfRange(YearMonth {
        year: 2026,
        month: 1,
    });
    add(e.key(), e.params());
    add(
        "checks.date_before_birth",
        crate::common::params([("date", s()), ("birth", s())]),
    );
    out.sort();
    out.dedup();
    out
}
