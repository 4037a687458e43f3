//! A visit's measurements judged before they are saved (posyandu steps 2 and 3).

use super::facts::{self, LiveMeasurement};
use super::with_rules::kbm;
use crate::domain::MeasurementInput;
use crate::error::{Result, StoreError};
use crate::store::Store;
use health_rules::checks::Readings;
use health_rules::checks::{self, CheckInput, CheckRules, LastValue, MeasurementCheck, Previous};
use serde_json::Value;
use sync_protocol::RecordId;

/// Put one measurement into the readings (unknown types are ignored).
fn put(r: &mut Readings, kind: &str, value: f64, position: Option<health_rules::growth::Position>) {
    match kind {
        "weight" => r.weight_kg = Some(value),
        "length_height" => {
            r.length_height_cm = Some(value);
            r.position = position;
        }
        "head" => r.head_cm = Some(value),
        "muac" => r.muac_cm = Some(value),
        "waist" => r.waist_cm = Some(value),
        "bp_systolic" => r.bp_systolic = Some(value),
        "bp_diastolic" => r.bp_diastolic = Some(value),
        "blood_sugar" => r.blood_sugar = Some(value),
        "hb" => r.hb = Some(value),
        "temperature" => r.temperature = Some(value),
        _ => {}
    }
}

fn last(ms: &[&LiveMeasurement], kind: &str) -> Option<LastValue> {
    ms.iter().rev().find(|m| m.kind == kind).map(|m| LastValue {
        date: m.date,
        value: m.value,
        position: m.position,
    })
}

impl Store {
    /// Judges measurements before they are saved: what deserves an "are you sure?"
    /// (`confirm`: WHO z-score flags, ranges, jumps against the last value) and the result
    /// at once in words with the next step (`findings`, `next_action`): for under-fives the
    /// KMS result against the earlier weighings (N/T/O/B, 2T, BGM) and the BB/U, PB/U-TB/U,
    /// BB/PB-BB/TB categories; for a pregnant woman KEK (LiLA < 23.5 cm), anaemia and high
    /// blood pressure; for adults and lansia blood pressure, blood sugar, waist and IMT.
    ///
    /// Nothing is written. Values already saved for the person on the same `date` fill in
    /// what `input` lacks (a length entered after the weight still gives BB/PB), but only
    /// the values in `input` are asked about. `date` is `YYYY-MM-DD`.
    pub fn assess_measurement(
        &self,
        person: RecordId,
        input: &[MeasurementInput],
        date: &str,
    ) -> Result<MeasurementCheck> {
        let on = facts::date_arg("date", date)?;
        let timeline = self.person_timeline(person)?;
        let (sex, birth) = facts::sex_and_birth(&timeline.person)?;
        let live = facts::live_measurements(&timeline.entries);
        let earlier: Vec<&LiveMeasurement> = live.iter().filter(|m| m.date < on).collect();
        let mut readings = Readings::default();
        for m in live.iter().filter(|m| m.date == on) {
            put(&mut readings, &m.kind, m.value, m.position);
            if m.kind == "weight" {
                readings.oedema = m.oedema;
            }
        }
        for m in input {
            put(
                &mut readings,
                &m.kind,
                m.value,
                facts::position(m.position.as_deref()),
            );
            // Oedema goes with the weight (body schema 2): the weight-based results then
            // follow WHO's rule for oedema (gizi buruk, no weight-based z-score).
            if m.kind == "weight" {
                readings.oedema = m.oedema == Some(true);
            }
        }
        let previous = Previous {
            weight_kg: last(&earlier, "weight"),
            length_height_cm: last(&earlier, "length_height"),
            head_cm: last(&earlier, "head"),
        };
        let earlier_owned: Vec<LiveMeasurement> = earlier.into_iter().cloned().collect();
        let weighings = facts::weighings(sex, birth, &facts::days(&earlier_owned));
        let pregnancy = timeline
            .pregnancies
            .iter()
            .find(|p| p.get("status").and_then(Value::as_str) == Some("ongoing"))
            .map(|p| {
                p.get("hpht")
                    .and_then(Value::as_str)
                    .and_then(crate::validate::parse_date)
            });
        let anc =
            health_rules::pregnancy::anc_schedule(&self.rules.anc_schedule).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown ANC schedule {}", self.rules.anc_schedule))
            })?;
        let rules = CheckRules {
            kbm: kbm(&self.rules)?,
            anc,
            ..CheckRules::builtin()
        };
        let mut out = checks::check(
            &CheckInput {
                sex,
                birth_date: birth,
                date: on,
                readings: &readings,
                pregnancy,
                previous: &previous,
                weighings: &weighings,
            },
            &rules,
        );
        out.confirm
            .retain(|c| input.iter().any(|m| m.kind == c.field));
        Ok(out)
    }
}
