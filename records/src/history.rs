//! What health-rules needs to know of one person, from their facts and pregnancies: the
//! doses given, the ongoing pregnancy with its ANC contacts and open danger signs, the
//! delivery, newborn and postpartum visits, the last posyandu visit.

use crate::facts::{Fact, parse_date};
use chrono::NaiveDate;
use health_rules::Sex;
use health_rules::immunisation::{GivenDose, Schedule};
use health_rules::kms::MonthResult;
use health_rules::pregnancy::DangerSign;
use health_rules::tasks::{PersonHistory, PregnancyEpisode};
use serde_json::Value;
use std::collections::HashMap;
use sync_protocol::{Body, EntityKind};

/// Maps a recorded vaccine name (`DPT-HB-Hib 4`, `MR1`, `Polio tetes (OPV) 1`) to a dose id
/// ([`Schedule::dose_for_record`]).
pub fn dose_id(schedule: &Schedule, vaccine: &str) -> Option<String> {
    schedule.dose_for_record(vaccine).map(|d| d.id.clone())
}

/// The facts and pregnancies of a posyandu's persons, read once, handed out per person
/// with the records merged into them (`person_merge` facts: kept → merged).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonFacts {
    /// Facts per person id (the `person` column).
    pub facts: HashMap<String, Vec<Fact>>,
    /// Merges: the kept person → the persons merged into it.
    pub merges: HashMap<String, Vec<String>>,
    /// Live pregnancies per person: their current values with their `id`.
    pub pregnancies: HashMap<String, Vec<Body>>,
}

impl PersonFacts {
    /// The facts (oldest first) and pregnancies of a person and of every record merged
    /// into them, through chains. Each person's facts are handed out once.
    pub fn take(&mut self, person: &str) -> (Vec<Fact>, Vec<Body>) {
        let mut ids = vec![person.to_string()];
        let mut i = 0;
        while i < ids.len() {
            for m in self.merges.get(&ids[i]).into_iter().flatten() {
                if !ids.contains(m) {
                    ids.push(m.clone());
                }
            }
            i += 1;
        }
        let mut entries: Vec<Fact> = Vec::new();
        let mut pregs: Vec<Body> = Vec::new();
        for id in &ids {
            entries.extend(self.facts.remove(id).unwrap_or_default());
            pregs.extend(self.pregnancies.remove(id).unwrap_or_default());
        }
        entries.sort_by(|a, b| a.date.cmp(&b.date));
        (entries, pregs)
    }
}

/// What health-rules needs to know of one person, from their facts and pregnancies.
///
/// The schema has no visit type for KN/KF yet: any visit (posyandu or home) of a baby in
/// its first 28 days counts as a newborn visit, and any visit of a woman in the 42 days
/// after her delivery as a postpartum visit. The danger signs of a pregnancy are those
/// of its latest `danger_signs` screening (answers named like [`DangerSign`], e.g.
/// `{"bleeding": true}`) when no ANC contact came after it. `kms`: the person's KMS
/// results ([`crate::growth::growth_kms`]). `registered_on` is left for the caller.
pub fn history(
    birth: NaiveDate,
    sx: Sex,
    kms: Vec<MonthResult>,
    entries: &[Fact],
    pregnancies: &[Body],
    schedule: &Schedule,
) -> PersonHistory {
    let mut h = PersonHistory {
        birth_date: birth,
        sex: sx,
        kms,
        immunisations: Vec::new(),
        pregnancy: None,
        delivery_date: None,
        newborn_visits: Vec::new(),
        postpartum_visits: Vec::new(),
        tb: None,
        last_posyandu: None,
        registered_on: None,
    };
    let mut visits = Vec::new();
    let mut danger_screenings: Vec<(NaiveDate, &Body)> = Vec::new();
    for e in entries {
        if !e.is_live() {
            continue;
        }
        let Some(date) = e.day() else {
            continue;
        };
        if e.kind == EntityKind::Visit {
            visits.push(date);
        }
        if e.kind == EntityKind::Screening
            && e.text("instrument") == Some("danger_signs")
            && let Some(Value::Object(answers)) = e.body.get("answers")
        {
            danger_screenings.push((date, answers));
        }
        match e.kind {
            EntityKind::Immunisation => {
                if let Some(id) = e.text("vaccine").and_then(|v| dose_id(schedule, v)) {
                    h.immunisations.push(GivenDose { dose_id: id, date });
                }
            }
            EntityKind::Visit if e.text("type") == Some("posyandu") => {
                h.last_posyandu = h.last_posyandu.max(Some(date));
            }
            _ => {}
        }
    }
    for preg in pregnancies {
        let status = preg.get("status").and_then(Value::as_str);
        let pid = preg.get("id").and_then(Value::as_str).unwrap_or_default();
        if status == Some("ongoing")
            && let Some(hpht) = preg
                .get("hpht")
                .and_then(Value::as_str)
                .and_then(parse_date)
        {
            let anc_contacts: Vec<NaiveDate> = entries
                .iter()
                .filter(|e| {
                    e.kind == EntityKind::AncContact
                        && e.is_live()
                        && e.text("pregnancy") == Some(pid)
                })
                .filter_map(Fact::day)
                .collect();
            let last_contact = anc_contacts.iter().max().copied();
            let open_danger_signs = danger_screenings
                .iter()
                .filter(|(d, _)| *d >= hpht && last_contact.is_none_or(|c| c <= *d))
                .max_by_key(|(d, _)| *d)
                .map(|(_, answers)| danger_signs(answers))
                .unwrap_or_default();
            h.pregnancy = Some(PregnancyEpisode {
                hpht,
                anc_contacts,
                open_danger_signs,
            });
        }
        if let Some(d) = preg
            .get("delivery_date")
            .and_then(Value::as_str)
            .and_then(parse_date)
        {
            h.delivery_date = h.delivery_date.max(Some(d));
        }
    }
    let within = |from: NaiveDate, days: u64, d: &NaiveDate| {
        *d >= from
            && from
                .checked_add_days(chrono::Days::new(days))
                .is_some_and(|end| *d <= end)
    };
    h.newborn_visits = visits
        .iter()
        .filter(|d| within(birth, 28, d))
        .copied()
        .collect();
    if let Some(delivery) = h.delivery_date {
        h.postpartum_visits = visits
            .iter()
            .filter(|d| within(delivery, 42, d))
            .copied()
            .collect();
    }
    h
}

/// The danger signs ticked in a `danger_signs` screening's answers.
pub fn danger_signs(answers: &serde_json::Map<String, Value>) -> Vec<DangerSign> {
    let mut out: Vec<DangerSign> = answers
        .iter()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .filter_map(|(k, _)| serde_json::from_value(Value::String(k.clone())).ok())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::tests::{fact, rid};
    use serde_json::json;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).expect("date")
    }

    #[test]
    fn merged_records_are_handed_out_with_the_kept_person_once() {
        let mut all = PersonFacts::default();
        let mut a = fact(
            1,
            EntityKind::Visit,
            "2025-02-01",
            json!({"type": "posyandu"}),
        );
        a.person = Some("a".into());
        let mut b = fact(2, EntityKind::Visit, "2025-01-01", json!({"type": "home"}));
        b.person = Some("b".into());
        let mut c = fact(3, EntityKind::Visit, "2025-03-01", json!({"type": "home"}));
        c.person = Some("c".into());
        all.facts.insert("a".into(), vec![a]);
        all.facts.insert("b".into(), vec![b]);
        all.facts.insert("c".into(), vec![c]);
        all.merges.insert("a".into(), vec!["b".into()]);
        all.merges.insert("b".into(), vec!["c".into()]);
        let (entries, _) = all.take("a");
        let dates: Vec<&str> = entries.iter().map(|e| e.date.as_str()).collect();
        assert_eq!(dates, ["2025-01-01", "2025-02-01", "2025-03-01"]);
        assert!(all.take("b").0.is_empty(), "handed out once");
    }

    #[test]
    fn history_reads_doses_visits_and_the_ongoing_pregnancy() {
        let schedule = Schedule::national_2024();
        let mut corrected = fact(
            5,
            EntityKind::Immunisation,
            "2025-01-02",
            json!({"vaccine": "BCG"}),
        );
        corrected.superseded_by = Some(rid(6));
        let entries = vec![
            fact(
                1,
                EntityKind::Immunisation,
                "2025-01-01",
                json!({"vaccine": "HB0"}),
            ),
            corrected,
            fact(
                2,
                EntityKind::Visit,
                "2025-01-10",
                json!({"type": "posyandu"}),
            ),
            fact(3, EntityKind::Visit, "2025-03-10", json!({"type": "home"})),
            fact(
                4,
                EntityKind::Screening,
                "2025-03-12",
                json!({"instrument": "danger_signs", "answers": {"bleeding": true, "fever": false}}),
            ),
            fact(
                7,
                EntityKind::AncContact,
                "2025-03-01",
                json!({"pregnancy": "g1"}),
            ),
            fact(
                8,
                EntityKind::AncContact,
                "2025-03-02",
                json!({"pregnancy": "other"}),
            ),
        ];
        let preg: Body = json!({"id": "g1", "status": "ongoing", "hpht": "2025-01-15"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let h = history(
            d("2025-01-01"),
            Sex::Female,
            Vec::new(),
            &entries,
            &[preg],
            schedule,
        );
        assert_eq!(h.immunisations.len(), 1, "the corrected BCG is left out");
        assert_eq!(h.immunisations[0].dose_id, "HB0");
        assert_eq!(h.last_posyandu, Some(d("2025-01-10")));
        assert_eq!(h.newborn_visits, vec![d("2025-01-10")]);
        let p = h.pregnancy.expect("ongoing pregnancy");
        assert_eq!(p.anc_contacts, vec![d("2025-03-01")]);
        assert_eq!(
            p.open_danger_signs.len(),
            1,
            "bleeding, after the last contact"
        );
    }
}
