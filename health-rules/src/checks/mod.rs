//! A visit's measurements judged before they are saved (posyandu steps 2 and 3): which
//! values deserve an "are you sure?" ([`Confirm`]), and the result at once in words
//! ([`Finding`]) with what to do next.
//!
//! - **Under-fives**: the KMS result of this weighing against the earlier ones (N, T, O, B,
//!   2T, BGM, above the orange line; [`crate::kms`]), the Permenkes 2/2020 categories of
//!   BB/U, PB/U-TB/U and BB/PB-BB/TB ([`crate::growth`]), LiLA 6–59 months (< 11.5 cm gizi
//!   buruk, < 12.5 cm gizi kurang).
//! - **5 to < 19 years**: IMT/U (BMI-for-age) category.
//! - **Pregnant women**: LiLA < 23.5 cm is KEK; anaemia by trimester; blood pressure
//!   ≥ 140/90 means see the bidan today.
//! - **Women 15–49** (not pregnant): LiLA < 23.5 cm is a KEK risk.
//! - **From 15 years**: blood pressure category (normal, pra-hipertensi, hipertensi,
//!   krisis), waist (obesitas sentral > 90 cm men / > 80 cm women), and at every age blood
//!   sugar (sewaktu ≥ 200 high, < 70 low), Hb (WHO 2011) and temperature.
//! - **Adults** (from 229 months, where the WHO reference ends): IMT category (Kemenkes).
//!
//! "Are you sure?" comes from WHO's z-score flags for children, from ranges for adults and
//! for blood pressure, sugar, Hb and temperature, and from jumps against the last value
//! (weight-for-age z moving by 2 or more, length or head going down, an adult's weight
//! changing by 10 % within 90 days). Every threshold is data with its source:
//! `data/checks/ambang-pengukuran.json` ([`Thresholds`], id `ambang-pengukuran-v1`).

mod thresholds;
mod vitals;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::advice::{self, Finding, most_pressing};
use crate::age::UNDER_FIVE_MONTHS;
use crate::common::{Label, Sex};
use crate::growth::{
    self, Assessment, Indicator, Measures, Position, corrected_length, weight_for_age_z,
};
use crate::kms::{self, GrowthActions, KbmTable, MonthResult, OrangeLine, RedLine, Weighing};
use crate::pregnancy::{self, AncSchedule};

pub use thresholds::{
    AdultBmi, BloodPressure, BloodSugar, ChecksError, ConfirmRange, ConfirmRanges,
    DEFAULT_THRESHOLDS_ID, Hb, HbRow, Jumps, Lila, Temperature, Thresholds, Waist,
};

/// The rule tables a check uses.
#[derive(Debug, Clone, Copy)]
pub struct CheckRules<'a> {
    pub thresholds: &'a Thresholds,
    pub kbm: &'a KbmTable,
    pub red_line: &'a RedLine,
    pub orange_line: &'a OrangeLine,
    pub growth_actions: &'a GrowthActions,
    pub anc: &'a AncSchedule,
}

impl CheckRules<'static> {
    /// The built-in tables (Buku KIA KBM, KMS 2010 red line, orange line, default actions,
    /// Buku KIA ANC schedule, `ambang-pengukuran-v1`).
    pub fn builtin() -> Self {
        Self {
            thresholds: Thresholds::builtin(),
            kbm: &kms::builtin_kbm_tables()[0],
            red_line: RedLine::kms_2010(),
            orange_line: OrangeLine::buku_kia_2020(),
            growth_actions: GrowthActions::buku_kia(),
            anc: &pregnancy::builtin_anc_schedules()[0],
        }
    }
}

/// What was measured at this visit (any subset). Units as in the measurement schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Readings {
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    pub position: Option<Position>,
    pub head_cm: Option<f64>,
    pub muac_cm: Option<f64>,
    pub waist_cm: Option<f64>,
    pub bp_systolic: Option<f64>,
    pub bp_diastolic: Option<f64>,
    /// Blood sugar in mg/dL (read as gula darah sewaktu).
    pub blood_sugar: Option<f64>,
    /// Haemoglobin in g/dL.
    pub hb: Option<f64>,
    /// Body temperature in °C.
    pub temperature: Option<f64>,
    #[serde(default)]
    pub oedema: bool,
}

/// The last earlier value of one measurement type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LastValue {
    pub date: NaiveDate,
    pub value: f64,
    #[serde(default)]
    pub position: Option<Position>,
}

/// The last earlier values, for the jump checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Previous {
    pub weight_kg: Option<LastValue>,
    pub length_height_cm: Option<LastValue>,
    pub head_cm: Option<LastValue>,
}

/// One person's visit to check.
#[derive(Debug, Clone, Copy)]
pub struct CheckInput<'a> {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub date: NaiveDate,
    pub readings: &'a Readings,
    /// `Some(hpht)` for an ongoing pregnancy (`Some(None)`: pregnant, HPHT unknown).
    pub pregnancy: Option<Option<NaiveDate>>,
    pub previous: &'a Previous,
    /// Earlier weighings (the KMS history), any order. Weighings in the same month as
    /// `date` are replaced by this one (the month's result is the latest weighing).
    pub weighings: &'a [Weighing],
}

/// A value that deserves a second look before it is saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirm {
    /// The measurement type (`weight`, `length_height`, `bp_systolic`, …).
    pub field: &'static str,
    pub label: Label,
    pub params: BTreeMap<&'static str, String>,
}

/// A part of the check that could not be done, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckProblem {
    /// Message key, e.g. `pregnancy.implausible_hb`.
    pub key: &'static str,
    /// The values of the key's text (`date`, `birth`, `value` …).
    pub params: crate::Params,
}

/// Everything [`check`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasurementCheck {
    pub age_days: u32,
    /// Completed months on the day.
    pub age_months: u32,
    /// Values to confirm ("yakin?") before saving; empty when all look plausible.
    pub confirm: Vec<Confirm>,
    /// The results in words, most pressing first.
    pub findings: Vec<Finding>,
    /// The action of the most pressing finding that has one.
    pub next_action: Option<Label>,
    /// WHO z-scores with categories and flags (under 229 months).
    pub growth: Option<Assessment>,
    /// This month's KMS result (under-fives with a weight).
    pub kms: Option<MonthResult>,
    pub problems: Vec<CheckProblem>,
}

const fn label(key: &'static str, id: &'static str, en: &'static str) -> Label {
    Label { key, id, en }
}

const CONFIRM_Z: Label = label(
    "checks.confirm.implausible_z",
    "Nilai ini sangat tidak biasa untuk umur anak: ukur ulang dan periksa angka yang diketik",
    "This value is very unusual for the child's age: measure again and check the number typed",
);
const CONFIRM_RANGE: Label = label(
    "checks.confirm.out_of_range",
    "Nilai di luar kisaran yang biasa: ukur ulang dan periksa angka yang diketik",
    "The value is outside the usual range: measure again and check the number typed",
);
const CONFIRM_WEIGHT_JUMP: Label = label(
    "checks.confirm.weight_jump",
    "Berat badan berubah jauh sejak penimbangan terakhir: timbang ulang",
    "The weight changed a lot since the last weighing: weigh again",
);
const CONFIRM_LENGTH_DOWN: Label = label(
    "checks.confirm.length_decrease",
    "Panjang/tinggi badan lebih kecil dari pengukuran terakhir: ukur ulang",
    "Length/height is less than at the last measurement: measure again",
);
const CONFIRM_HEAD_DOWN: Label = label(
    "checks.confirm.head_decrease",
    "Lingkar kepala lebih kecil dari pengukuran terakhir: ukur ulang",
    "Head circumference is less than at the last measurement: measure again",
);
const CONFIRM_BP_ORDER: Label = label(
    "checks.confirm.bp_order",
    "Tekanan darah sistolik harus lebih tinggi dari diastolik: periksa angkanya",
    "Systolic pressure must be higher than diastolic: check the numbers",
);

const IMPOSSIBLE: Label = label(
    "checks.impossible",
    "Angka ini tidak mungkin untuk umur ini: periksa angka yang diketik dan ukur ulang",
    "This number is not possible at this age: check the number typed and measure again",
);

/// The plausible range of a measurement at an age in completed months: wider than any
/// healthy person, to catch typing errors such as 84 kg for 8,4 kg or a LiLA of 225 cm for
/// 22,5. A value outside it is impossible: it gets no category and no advice, only the
/// check in words, and the store refuses to save it. `None` for an unknown type.
pub fn plausible_range(kind: &str, age_months: u32) -> Option<(f64, f64)> {
    let bands: &[(u32, f64, f64)] = match kind {
        "weight" => &[
            (1, 0.5, 8.0),
            (6, 1.0, 14.0),
            (24, 2.0, 22.0),
            (60, 4.0, 40.0),
            (120, 8.0, 90.0),
            (216, 12.0, 180.0),
            (u32::MAX, 20.0, 300.0),
        ],
        "length_height" => &[
            (1, 30.0, 65.0),
            (6, 35.0, 85.0),
            (24, 40.0, 110.0),
            (60, 55.0, 135.0),
            (120, 75.0, 175.0),
            (216, 95.0, 215.0),
            (u32::MAX, 110.0, 230.0),
        ],
        "head" => &[(24, 25.0, 55.0), (60, 35.0, 60.0), (u32::MAX, 40.0, 70.0)],
        "muac" => &[(60, 7.0, 25.0), (u32::MAX, 10.0, 50.0)],
        "waist" => &[(60, 30.0, 90.0), (u32::MAX, 35.0, 250.0)],
        "bp_systolic" => &[(u32::MAX, 50.0, 260.0)],
        "bp_diastolic" => &[(u32::MAX, 30.0, 160.0)],
        "blood_sugar" => &[(u32::MAX, 20.0, 800.0)],
        "hb" => &[(u32::MAX, 3.0, 20.0)],
        "temperature" => &[(u32::MAX, 30.0, 45.0)],
        _ => return None,
    };
    bands
        .iter()
        .find(|(upto, ..)| age_months < *upto)
        .map(|(_, lo, hi)| (*lo, *hi))
}

/// The readings without the impossible ones (each reported as a check in words).
fn possible_readings(r: &Readings, age_months: u32, out: &mut Out) -> Readings {
    let mut kept = r.clone();
    for (kind, value) in readings_list(r) {
        let Some((lo, hi)) = plausible_range(kind, age_months) else {
            continue;
        };
        if (lo..=hi).contains(&value) {
            continue;
        }
        out.confirm(
            kind,
            IMPOSSIBLE,
            &[("value", fmt1(value)), ("min", fmt1(lo)), ("max", fmt1(hi))],
        );
        let slot = match kind {
            "weight" => &mut kept.weight_kg,
            "length_height" => &mut kept.length_height_cm,
            "head" => &mut kept.head_cm,
            "muac" => &mut kept.muac_cm,
            "waist" => &mut kept.waist_cm,
            "bp_systolic" => &mut kept.bp_systolic,
            "bp_diastolic" => &mut kept.bp_diastolic,
            "blood_sugar" => &mut kept.blood_sugar,
            "hb" => &mut kept.hb,
            _ => &mut kept.temperature,
        };
        *slot = None;
    }
    kept
}

/// `(type, value, unit)` of the readings, in schema names.
fn readings_list(r: &Readings) -> Vec<(&'static str, f64)> {
    [
        ("weight", r.weight_kg),
        ("length_height", r.length_height_cm),
        ("head", r.head_cm),
        ("muac", r.muac_cm),
        ("waist", r.waist_cm),
        ("bp_systolic", r.bp_systolic),
        ("bp_diastolic", r.bp_diastolic),
        ("blood_sugar", r.blood_sugar),
        ("hb", r.hb),
        ("temperature", r.temperature),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

fn indicator_field(i: Indicator) -> &'static str {
    match i {
        Indicator::WeightForAge | Indicator::WeightForLength | Indicator::WeightForHeight => {
            "weight"
        }
        Indicator::LengthHeightForAge => "length_height",
        Indicator::BmiForAge => "weight",
        Indicator::HeadCircumferenceForAge => "head",
        Indicator::ArmCircumferenceForAge => "muac",
    }
}

fn fmt1(v: f64) -> String {
    format!("{v:.1}")
}

struct Out {
    confirm: Vec<Confirm>,
    findings: Vec<Finding>,
    problems: Vec<CheckProblem>,
}

impl Out {
    fn confirm(&mut self, field: &'static str, label: Label, params: &[(&'static str, String)]) {
        if self
            .confirm
            .iter()
            .any(|c| c.field == field && c.label.key == label.key)
        {
            return;
        }
        self.confirm.push(Confirm {
            field,
            label,
            params: params.iter().cloned().collect(),
        });
    }

    fn problem(&mut self, key: &'static str, params: crate::Params) {
        self.problems.push(CheckProblem { key, params });
    }
}

/// Judge one visit's measurements. Never fails: what cannot be judged is listed in
/// [`MeasurementCheck::problems`] and the rest is still done.
pub fn check(input: &CheckInput<'_>, rules: &CheckRules<'_>) -> MeasurementCheck {
    let mut out = Out {
        confirm: Vec::new(),
        findings: Vec::new(),
        problems: Vec::new(),
    };
    let t = rules.thresholds;
    let (age_days, age_months) = match (
        growth::age_in_days(input.birth_date, input.date),
        crate::age::age_in_months(input.birth_date, input.date),
    ) {
        (Ok(d), Some(m)) => (d, m),
        _ => {
            out.problem(
                "checks.date_before_birth",
                crate::common::params([
                    ("date", input.date.to_string()),
                    ("birth", input.birth_date.to_string()),
                ]),
            );
            return finish(out, 0, 0, None, None);
        }
    };
    let pregnant = input.pregnancy.is_some() && input.sex == Sex::Female;
    // An impossible value is set aside: no category, no advice, only the check in words.
    let possible = possible_readings(input.readings, age_months, &mut out);
    let input = &CheckInput {
        readings: &possible,
        ..*input
    };
    let r = input.readings;

    // Ranges (adults; BP, sugar, Hb, temperature at any age).
    for (kind, value) in readings_list(r) {
        let range = t
            .confirm
            .ranges
            .iter()
            .filter(|c| c.kind == kind && age_months >= c.from_months)
            .max_by_key(|c| c.from_months);
        if let Some(c) = range
            && !(c.min..=c.max).contains(&value)
        {
            out.confirm(
                kind,
                CONFIRM_RANGE,
                &[
                    ("value", fmt1(value)),
                    ("min", fmt1(c.min)),
                    ("max", fmt1(c.max)),
                ],
            );
        }
    }
    if let (Some(s), Some(d)) = (r.bp_systolic, r.bp_diastolic)
        && s <= d
    {
        out.confirm("bp_systolic", CONFIRM_BP_ORDER, &[]);
    }

    // WHO z-scores (under 229 months).
    let growth_measures = Measures {
        weight_kg: r.weight_kg,
        length_height_cm: r.length_height_cm,
        position: r.position,
        head_cm: r.head_cm,
        muac_cm: r.muac_cm,
        oedema: r.oedema,
    };
    let has_growth = growth_measures.weight_kg.is_some()
        || growth_measures.length_height_cm.is_some()
        || growth_measures.head_cm.is_some()
        || growth_measures.muac_cm.is_some();
    let growth = (has_growth && age_days <= growth::MAX_AGE_DAYS && !pregnant)
        .then(|| growth::assess_at_age(input.sex, age_days, &growth_measures))
        .and_then(|a| match a {
            Ok(a) => Some(a),
            Err(e) => {
                out.problem(e.key(), e.params());
                None
            }
        });
    if let Some(a) = &growth {
        for i in Indicator::ALL {
            if let Some(res) = a.get(i)
                && res.flagged
            {
                let z = res.z.map(|z| format!("{z:.2}")).unwrap_or_default();
                out.confirm(
                    indicator_field(i),
                    CONFIRM_Z,
                    &[("indicator", i.code().to_string()), ("z", z)],
                );
            }
        }
    }

    jumps(input, age_days, age_months, &mut out, t);

    // KMS (under-fives weighed).
    let kms = match r.weight_kg {
        Some(w) if age_months < UNDER_FIVE_MONTHS && w > 0.0 && w.is_finite() => {
            kms_result(input, w, age_days, rules, &mut out)
        }
        _ => None,
    };
    // The KMS findings go first (they are what the kader announces), then the categories.
    out.findings = advice::growth_findings(kms.as_ref(), growth.as_ref(), rules.growth_actions);

    // LiLA.
    if let Some(muac) = r.muac_cm {
        vitals::lila_findings(input, muac, age_months, pregnant, &mut out, t);
    }
    // Blood pressure, sugar, waist, Hb, temperature, adult BMI.
    vitals::bp_findings(r, age_months, pregnant, &mut out, t);
    vitals::sugar_findings(r, &mut out, t);
    vitals::waist_findings(r, input.sex, age_months, pregnant, &mut out, t);
    vitals::hb_findings(input, age_months, pregnant, &mut out, t, rules.anc);
    vitals::temperature_findings(r, age_days, &mut out, t);
    vitals::adult_bmi_findings(r, age_months, pregnant, &mut out, t);

    finish(out, age_days, age_months, growth, kms)
}

fn finish(
    mut out: Out,
    age_days: u32,
    age_months: u32,
    growth: Option<Assessment>,
    kms: Option<MonthResult>,
) -> MeasurementCheck {
    // Stable: equal levels keep the order above (KMS first).
    out.findings.sort_by_key(|f| f.level);
    let with_action: Vec<Finding> = out
        .findings
        .iter()
        .filter(|f| f.action.is_some())
        .cloned()
        .collect();
    let next_action = most_pressing(&with_action).and_then(|f| f.action.clone());
    MeasurementCheck {
        age_days,
        age_months,
        confirm: out.confirm,
        findings: out.findings,
        next_action,
        growth,
        kms,
        problems: out.problems,
    }
}

fn kms_result(
    input: &CheckInput<'_>,
    weight_kg: f64,
    age_days: u32,
    rules: &CheckRules<'_>,
    out: &mut Out,
) -> Option<MonthResult> {
    let month = kms::YearMonth::of(input.date);
    let mut ws: Vec<Weighing> = input
        .weighings
        .iter()
        .filter(|w| w.date < input.date && kms::YearMonth::of(w.date) != month)
        .cloned()
        .collect();
    let wfa_z = (!input.readings.oedema)
        .then(|| weight_for_age_z(input.sex, age_days, weight_kg).ok())
        .flatten();
    ws.push(Weighing {
        date: input.date,
        weight_g: (weight_kg * 1000.0).round() as u32,
        wfa_z,
    });
    match kms::assess_with(
        input.birth_date,
        &ws,
        rules.kbm,
        rules.red_line,
        rules.orange_line,
    ) {
        Ok(mut results) => results.pop().filter(|m| m.month == month),
        Err(e) => {
            out.problem(e.key(), e.params());
            None
        }
    }
}

fn jumps(input: &CheckInput<'_>, age_days: u32, age_months: u32, out: &mut Out, t: &Thresholds) {
    let j = &t.jumps;
    let r = input.readings;
    let days_since = |d: NaiveDate| (input.date - d).num_days();
    if let (Some(w), Some(prev)) = (r.weight_kg, input.previous.weight_kg)
        && prev.date < input.date
    {
        let since = days_since(prev.date);
        let params = [
            ("previous", fmt1(prev.value)),
            ("previous_date", prev.date.to_string()),
            ("value", fmt1(w)),
        ];
        if age_months < UNDER_FIVE_MONTHS {
            let z_now = weight_for_age_z(input.sex, age_days, w);
            let z_then = growth::age_in_days(input.birth_date, prev.date)
                .ok()
                .and_then(|d| weight_for_age_z(input.sex, d, prev.value).ok());
            if let (Ok(a), Some(b)) = (z_now, z_then)
                && since <= i64::from(j.child_max_days)
                && (a - b).abs() >= j.child_wfa_z_change
            {
                out.confirm("weight", CONFIRM_WEIGHT_JUMP, &params);
            }
        } else if age_months >= 216
            && since <= i64::from(j.adult_max_days)
            && prev.value > 0.0
            && ((w - prev.value).abs() / prev.value * 100.0) >= j.adult_weight_change_pct
        {
            out.confirm("weight", CONFIRM_WEIGHT_JUMP, &params);
        }
    }
    if let (Some(l), Some(prev)) = (r.length_height_cm, input.previous.length_height_cm)
        && prev.date < input.date
        && age_months < 229
    {
        let now = corrected_length(age_days, l, r.position);
        let then = growth::age_in_days(input.birth_date, prev.date)
            .map(|d| corrected_length(d, prev.value, prev.position))
            .unwrap_or(prev.value);
        // Compare as the same kind of measure: a length is 0.7 cm more than a height.
        let now_as_then = match (
            Position::expected_at(age_days),
            growth::age_in_days(input.birth_date, prev.date).map(Position::expected_at),
        ) {
            (Position::Standing, Ok(Position::Lying)) => now + growth::LENGTH_HEIGHT_CORRECTION_CM,
            _ => now,
        };
        if then - now_as_then > j.length_decrease_cm {
            out.confirm(
                "length_height",
                CONFIRM_LENGTH_DOWN,
                &[
                    ("previous", fmt1(prev.value)),
                    ("previous_date", prev.date.to_string()),
                    ("value", fmt1(l)),
                ],
            );
        }
    }
    if let (Some(h), Some(prev)) = (r.head_cm, input.previous.head_cm)
        && prev.date < input.date
        && prev.value - h > j.head_decrease_cm
    {
        out.confirm(
            "head",
            CONFIRM_HEAD_DOWN,
            &[
                ("previous", fmt1(prev.value)),
                ("previous_date", prev.date.to_string()),
                ("value", fmt1(h)),
            ],
        );
    }
}
