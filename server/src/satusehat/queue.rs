//! What to send: the export's resources (`crate::export::fhir::resources`, the one mapping)
//! as work items keyed like the worker's table, grouped per encounter, each with what it
//! needs (nothing, a create, an update of the resource sent before, or a wait).

use super::store::{Row, Status};
use crate::export::fhir::{self, PersonIn, Records};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// One resource to keep on the platform.
#[derive(Debug, Clone)]
pub struct Item {
    /// The worker table's key: the first record of the correction chain (a person id for a
    /// Patient).
    pub key: String,
    pub resource_type: String,
    /// `urn:uuid:<current record id>`, as the mapping's references name it.
    pub url: String,
    /// The mapping's resource, references still local (`urn:uuid:`).
    pub resource: Value,
    /// SHA-256 of `resource` (hex): a change of the record changes it.
    pub hash: String,
    pub posyandu: String,
}

/// An encounter and the observations and immunisations tied to it: sent together.
#[derive(Debug, Clone)]
pub struct Group {
    pub patient_url: String,
    pub encounter: Item,
    pub children: Vec<Item>,
}

/// The round's work: patients first, then the encounters with their facts.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub patients: Vec<(PersonIn, Item)>,
    pub groups: Vec<Group>,
    /// The `urn:uuid:` of each puskesmas Organization of the export (the worker names the
    /// configured organisation instead).
    pub organizations: Vec<String>,
}

/// What an item needs this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// On the platform with this content: `Type/<remote id>`.
    Done(String),
    /// Refused with this content, or waiting for its next attempt.
    Blocked,
    Create,
    /// A changed record: an update of the resource sent before.
    Update(String),
}

/// What `row` says about an item with content `hash` at `now` (ms).
pub fn need(row: Option<&Row>, hash: &str, now: i64) -> Need {
    let Some(r) = row else {
        return Need::Create;
    };
    let resend = || match &r.remote_id {
        Some(id) => Need::Update(id.clone()),
        None => Need::Create,
    };
    match r.status {
        Status::Sent if r.content_hash == hash => match &r.remote_id {
            Some(id) => Need::Done(format!("{}/{id}", r.resource_type)),
            None => Need::Create,
        },
        Status::Sent if r.next_attempt_at > now => Need::Blocked,
        Status::Sent => resend(),
        Status::Refused if r.content_hash == hash => Need::Blocked,
        Status::Refused => resend(),
        Status::Waiting if r.next_attempt_at > now => Need::Blocked,
        Status::Waiting => resend(),
    }
}

/// SHA-256 (hex) of a resource's JSON.
pub fn hash(v: &Value) -> String {
    use sha2::Digest;
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let d = sha2::Sha256::digest(&bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn id_of(url: &str) -> &str {
    url.trim_start_matches("urn:uuid:")
}

fn reference(v: &Value, field: &str) -> Option<String> {
    v[field]["reference"].as_str().map(str::to_string)
}

/// The plan of `records`. `roots` maps a correcting fact to the first fact of its chain.
pub fn plan(records: &Records, roots: &HashMap<String, String>) -> Plan {
    let root = |id: &str| roots.get(id).cloned().unwrap_or_else(|| id.to_string());
    let fact_posyandu: HashMap<&str, &str> = records
        .facts
        .iter()
        .chain(records.visits.values())
        .map(|f| (f.id.as_str(), f.posyandu.as_str()))
        .collect();
    let mut person_posyandu: HashMap<&str, &str> = HashMap::new();
    for f in &records.facts {
        person_posyandu
            .entry(f.person.as_str())
            .or_insert(f.posyandu.as_str());
    }
    let mut out = Plan::default();
    let mut encounters: BTreeMap<String, Group> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (url, r) in fhir::resources(records) {
        let ty = r["resourceType"].as_str().unwrap_or_default().to_string();
        let id = id_of(&url).to_string();
        let mut item = Item {
            key: root(&id),
            resource_type: ty.clone(),
            url: url.clone(),
            hash: hash(&r),
            resource: r,
            posyandu: fact_posyandu
                .get(id.as_str())
                .copied()
                .unwrap_or_default()
                .to_string(),
        };
        match ty.as_str() {
            "Organization" => out.organizations.push(url),
            "Patient" => {
                item.posyandu = person_posyandu
                    .get(id.as_str())
                    .copied()
                    .unwrap_or_default()
                    .to_string();
                if let Some(p) = records.persons.get(&id) {
                    out.patients.push((p.clone(), item));
                }
            }
            "Encounter" => {
                let patient_url = reference(&item.resource, "subject").unwrap_or_default();
                if item.posyandu.is_empty() {
                    item.posyandu = person_posyandu
                        .get(id_of(&patient_url))
                        .copied()
                        .unwrap_or_default()
                        .to_string();
                }
                order.push(url.clone());
                encounters.insert(
                    url,
                    Group {
                        patient_url,
                        encounter: item,
                        children: Vec::new(),
                    },
                );
            }
            _ => {
                if let Some(enc) = reference(&item.resource, "encounter")
                    && let Some(g) = encounters.get_mut(&enc)
                {
                    g.children.push(item);
                }
            }
        }
    }
    for url in order {
        if let Some(g) = encounters.remove(&url) {
            out.groups.push(g);
        }
    }
    out
}

/// Replaces every `reference` found in `map` (`urn:uuid:…` → `Type/id`).
pub fn resolve(v: &mut Value, map: &HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("reference")
                && let Some(to) = map.get(r.as_str())
            {
                *r = to.clone();
            }
            o.values_mut().for_each(|x| resolve(x, map));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| resolve(x, map)),
        _ => {}
    }
}

/// The entry indexes an `OperationOutcome` names (`Bundle.entry[3]…` in an issue's
/// `expression` or `location`).
pub fn blamed_entries(oo: &Value) -> Vec<usize> {
    let mut out = Vec::new();
    for i in oo["issue"].as_array().into_iter().flatten() {
        for field in ["expression", "location"] {
            for e in i[field].as_array().into_iter().flatten() {
                if let Some(s) = e.as_str()
                    && let Some(rest) = s.strip_prefix("Bundle.entry[")
                    && let Some(n) = rest.split(']').next().and_then(|n| n.parse().ok())
                    && !out.contains(&n)
                {
                    out.push(n);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(status: Status, hash: &str, remote: Option<&str>, next: i64) -> Row {
        Row {
            record_id: "a".into(),
            resource_type: "Observation".into(),
            posyandu: "p".into(),
            remote_id: remote.map(str::to_string),
            version_id: None,
            content_hash: hash.into(),
            status,
            attempts: 1,
            next_attempt_at: next,
            outcome: None,
            updated_at: 0,
        }
    }

    #[test]
    fn what_each_row_needs() {
        assert_eq!(need(None, "h", 0), Need::Create);
        let sent = row(Status::Sent, "h", Some("R1"), 0);
        assert_eq!(
            need(Some(&sent), "h", 0),
            Need::Done("Observation/R1".into())
        );
        assert_eq!(need(Some(&sent), "h2", 0), Need::Update("R1".into()));
        let refused = row(Status::Refused, "h", None, 0);
        assert_eq!(need(Some(&refused), "h", 0), Need::Blocked);
        assert_eq!(need(Some(&refused), "h2", 0), Need::Create);
        let waiting = row(Status::Waiting, "h", None, 100);
        assert_eq!(need(Some(&waiting), "h", 99), Need::Blocked);
        assert_eq!(need(Some(&waiting), "h", 100), Need::Create);
    }

    #[test]
    fn blamed_entries_from_expressions() {
        let oo = json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "invalid", "expression": ["Bundle.entry[2].resource.code"]},
            {"severity": "error", "code": "invalid", "location": ["Bundle.entry[0]"]}]});
        assert_eq!(blamed_entries(&oo), vec![2, 0]);
        assert!(blamed_entries(&json!({})).is_empty());
    }
}
