//! Who the records are about and who made them, as the platform knows them: health workers
//! as `Practitioner` by NIK, persons as `Patient` by NIK (the IHS number), a newborn by the
//! mother's NIK (created when not found, updated when her record changes). Part of a round
//! (`super::worker`).

use super::SatusehatError;
use super::client::outcome;
use super::queue::{self, Item, Need};
use super::worker::Round;
use crate::export::fhir::{self, PersonIn, Records};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

impl Round<'_> {
    /// The health workers who recorded the facts, as `Practitioner/<id>` by NIK.
    pub(super) async fn practitioners(
        &mut self,
        records: &Records,
    ) -> Result<HashMap<String, String>, SatusehatError> {
        let mut out = HashMap::new();
        let mut seen = HashSet::new();
        let authors: Vec<(String, String)> = records
            .facts
            .iter()
            .chain(records.visits.values())
            .filter_map(|f| Some((f.author_id.clone()?, f.author_nik.clone()?)))
            .filter(|a| seen.insert(a.clone()))
            .collect();
        for (user, nik) in authors {
            let item = Item {
                key: user.clone(),
                resource_type: "Practitioner".into(),
                url: format!("urn:jangkau:user:{user}"),
                resource: Value::Null,
                hash: queue::hash(&json!(nik)),
                posyandu: String::new(),
            };
            match queue::need(self.row(&user, "Practitioner"), &item.hash, self.now) {
                Need::Done(r) => {
                    out.insert(user, r);
                    continue;
                }
                Need::Blocked => continue,
                Need::Create | Need::Update(_) => {}
            }
            match self.client.search("Practitioner", fhir::NIK, &nik).await {
                Ok(found) => match found.first().and_then(|p| p["id"].as_str()) {
                    Some(id) => {
                        self.summary.practitioners_found += 1;
                        out.insert(user.clone(), format!("Practitioner/{id}"));
                        self.sent(&item, id.to_string(), None).await?;
                    }
                    None => {
                        let oo = outcome(
                            "not-found",
                            "no Practitioner with this NIK on the platform (named by display only)",
                        );
                        self.refused(&item, &oo).await?;
                    }
                },
                Err(e) => {
                    self.failed(&[&item], e).await?;
                    if self.stopped() {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// A patient: found by NIK (never changed here: the platform's master data), a newborn
    /// found by the mother's NIK, birth date and birth order, else created (updated later
    /// when the record changes).
    pub(super) async fn patient(
        &mut self,
        person: &PersonIn,
        mut item: Item,
    ) -> Result<(), SatusehatError> {
        if let Some(nik) = &person.nik {
            item.hash = queue::hash(&json!({"nik": nik}));
        }
        let need = queue::need(self.row(&item.key, "Patient"), &item.hash, self.now);
        match need {
            Need::Done(r) => {
                self.refs.insert(item.url.clone(), r);
                return Ok(());
            }
            Need::Blocked => return Ok(()),
            Need::Create | Need::Update(_) => {}
        }
        if let Some(nik) = &person.nik {
            return match self.client.search("Patient", fhir::NIK, nik).await {
                Ok(found) => match found.first().and_then(|p| p["id"].as_str()) {
                    Some(id) => {
                        self.summary.patients_found += 1;
                        self.sent(&item, id.to_string(), None).await
                    }
                    None => {
                        let oo = outcome(
                            "not-found",
                            "no Patient with this NIK on the platform (Dukcapil data): check the NIK",
                        );
                        self.refused(&item, &oo).await
                    }
                },
                Err(e) => self.failed(&[&item], e).await,
            };
        }
        let Some(mother) = &person.mother_nik else {
            let oo = outcome(
                "required",
                "no NIK and no mother's NIK: the platform cannot identify this person",
            );
            return self.refused(&item, &oo).await;
        };
        let mut resource = item.resource.clone();
        let result = match need.clone() {
            Need::Update(id) => {
                resource["id"] = json!(id);
                self.client
                    .update(&resource, &id)
                    .await
                    .map(|v| (id, v, false))
            }
            _ => {
                let found = match self.client.search("Patient", fhir::NIK_IBU, mother).await {
                    Ok(f) => f,
                    Err(e) => return self.failed(&[&item], e).await,
                };
                let same = found.iter().find(|p| {
                    p["birthDate"] == resource["birthDate"]
                        && p["multipleBirthInteger"] == resource["multipleBirthInteger"]
                });
                match same.and_then(|p| p["id"].as_str()) {
                    Some(id) => Ok((id.to_string(), None, false)),
                    None => {
                        let cond = format!("identifier={}|{}", fhir::RECORD_ID, item.url);
                        self.client
                            .create(&resource, Some(cond))
                            .await
                            .map(|(id, v)| (id, v, true))
                    }
                }
            }
        };
        let updating = matches!(need, Need::Update(_));
        match result {
            Ok((id, v, created)) => {
                if created {
                    self.summary.patients_created += 1;
                } else if updating {
                    self.summary.updated += 1;
                } else {
                    self.summary.patients_found += 1;
                }
                self.sent(&item, id, v).await
            }
            Err(e) => self.failed(&[&item], e).await,
        }
    }
}
