//! One round of the worker ([`send_once`]) and the background loop of `serve` ([`spawn`]).
//!
//! A round: the health workers as Practitioners (by NIK), the patients (found by NIK; a
//! newborn found by the mother's NIK, else created), then every encounter with its
//! observations and immunisations that is new or changed, as transaction Bundles. Every
//! outcome is written to `satusehat_resources` as it comes, so a round cut anywhere goes on
//! from there; a create carries `ifNoneExist` on the record's identifier, so a Bundle the
//! platform took but whose answer was lost creates nothing twice when sent again.

use super::client::{FhirClient, outcome};
use super::queue::{self, Group, Item, Need};
use super::store::{self, Row, Status};
use super::{SatusehatError, outcome_text};
use crate::Storage;
use crate::export::fhir::{self, FactIn, Records};
use crate::readmodel::Param;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// What a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Patients found on the platform by NIK (or a newborn by the mother's NIK).
    pub patients_found: usize,
    /// Newborns created.
    pub patients_created: usize,
    pub practitioners_found: usize,
    /// Resources created (in Bundles).
    pub created: usize,
    /// Resources updated (a correction, a changed record).
    pub updated: usize,
    /// Resources refused this round.
    pub refused: usize,
    /// Resources left for a later attempt this round (5xx, timeout).
    pub deferred: usize,
    /// Transaction Bundles posted (answered or not).
    pub bundles: usize,
    /// The round stopped early: the platform was unavailable.
    pub interrupted: Option<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} patient(s) found, {} created; {} practitioner(s) found; {} resource(s) created, \
             {} updated, {} refused, {} waiting for a retry; {} bundle(s)",
            self.patients_found,
            self.patients_created,
            self.practitioners_found,
            self.created,
            self.updated,
            self.refused,
            self.deferred,
            self.bundles
        )?;
        if let Some(why) = &self.interrupted {
            write!(f, "; stopped early: {why}")?;
        }
        Ok(())
    }
}

pub(super) struct Round<'a> {
    pub(super) store: &'a dyn Storage,
    pub(super) client: &'a FhirClient,
    pub(super) now: i64,
    pub(super) rows: HashMap<(String, String), Row>,
    /// `urn:uuid:…` → `Type/id` on the platform.
    pub(super) refs: HashMap<String, String>,
    pub(super) summary: Summary,
}

/// The delay before attempt `attempts + 1`: the base doubled per attempt, capped, and never
/// shorter than the platform's `Retry-After`.
pub fn backoff(base_ms: u64, max_ms: u64, attempts: i64, retry_after: Option<Duration>) -> u64 {
    let shift = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
    let d = base_ms.saturating_mul(1u64 << shift).min(max_ms);
    let after = retry_after.map_or(0, |a| u64::try_from(a.as_millis()).unwrap_or(u64::MAX));
    d.max(after)
}

impl Round<'_> {
    pub(super) fn row(&self, key: &str, ty: &str) -> Option<&Row> {
        self.rows.get(&(key.to_string(), ty.to_string()))
    }

    pub(super) async fn save(&mut self, r: Row) -> Result<(), SatusehatError> {
        store::put(self.store, &r).await?;
        self.rows
            .insert((r.record_id.clone(), r.resource_type.clone()), r);
        Ok(())
    }

    pub(super) fn base_row(&self, item: &Item) -> Row {
        Row {
            record_id: item.key.clone(),
            resource_type: item.resource_type.clone(),
            posyandu: item.posyandu.clone(),
            remote_id: self
                .row(&item.key, &item.resource_type)
                .and_then(|r| r.remote_id.clone()),
            version_id: None,
            content_hash: item.hash.clone(),
            status: Status::Sent,
            attempts: 0,
            next_attempt_at: 0,
            outcome: None,
            updated_at: self.now,
        }
    }

    pub(super) async fn sent(
        &mut self,
        item: &Item,
        id: String,
        version: Option<String>,
    ) -> Result<(), SatusehatError> {
        self.refs
            .insert(item.url.clone(), format!("{}/{id}", item.resource_type));
        let mut r = self.base_row(item);
        r.remote_id = Some(id);
        r.version_id = version;
        self.save(r).await
    }

    pub(super) async fn refused(&mut self, item: &Item, oo: &Value) -> Result<(), SatusehatError> {
        tracing::warn!(
            resource = %item.resource_type, record = %item.key,
            reason = %outcome_text(oo), "SATUSEHAT refused a resource"
        );
        let mut r = self.base_row(item);
        r.status = Status::Refused;
        r.attempts = self
            .row(&item.key, &item.resource_type)
            .map_or(0, |r| r.attempts)
            + 1;
        r.outcome = Some(oo.to_string());
        self.summary.refused += 1;
        self.save(r).await
    }

    pub(super) async fn deferred(
        &mut self,
        item: &Item,
        retry_after: Option<Duration>,
        why: &str,
    ) -> Result<(), SatusehatError> {
        let cfg = self.client.config();
        let mut r = self.base_row(item);
        let before = self.row(&item.key, &item.resource_type);
        r.attempts = before
            .filter(|b| b.status == Status::Waiting)
            .map_or(0, |b| b.attempts)
            + 1;
        r.status = Status::Waiting;
        // A resource already on the platform stays sent with its old content (and its
        // version) until its update goes through; the update waits like a create.
        if let Some(b) = before.filter(|b| b.status == Status::Sent) {
            r = b.clone();
            r.attempts = b.attempts + 1;
            r.updated_at = self.now;
        }
        let wait = backoff(cfg.retry_base_ms, cfg.retry_max_ms, r.attempts, retry_after);
        r.next_attempt_at = self
            .now
            .saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        r.outcome = Some(outcome("transient", why).to_string());
        self.summary.deferred += 1;
        self.save(r).await
    }

    /// Handles a request failure for `items`: refusal kept, transient deferred (and the
    /// round stops), authorisation and others returned.
    pub(super) async fn failed(
        &mut self,
        items: &[&Item],
        e: SatusehatError,
    ) -> Result<(), SatusehatError> {
        match e {
            SatusehatError::Refused { outcome: oo, .. } => {
                for i in items {
                    self.refused(i, &oo).await?;
                }
                Ok(())
            }
            SatusehatError::Transient {
                retry_after,
                message,
            } => {
                for i in items {
                    self.deferred(i, retry_after, &message).await?;
                }
                self.summary.interrupted = Some(message);
                Ok(())
            }
            SatusehatError::Protocol(message) => {
                for i in items {
                    self.deferred(i, None, &message).await?;
                }
                self.summary.interrupted = Some(message);
                Ok(())
            }
            other => Err(other),
        }
    }

    pub(super) fn stopped(&self) -> bool {
        self.summary.interrupted.is_some()
    }

    /// The entries a group needs this round (the encounter first when it is sent too), or
    /// none when its encounter is blocked or its patient unknown to the platform.
    fn entries(&mut self, g: &Group) -> Vec<(Item, Need)> {
        let Some(patient) = self.refs.get(&g.patient_url).cloned() else {
            return Vec::new();
        };
        // What the platform calls the patient and the organisation belong to the content:
        // a patient found again under another IHS number (a corrected NIK), or another
        // organisation, updates what was sent.
        let salt = format!("{patient}|{}", self.client.config().organization_id);
        let salted = |i: &Item| Item {
            hash: queue::hash(&json!([i.hash, salt])),
            ..i.clone()
        };
        let g = Group {
            patient_url: g.patient_url.clone(),
            encounter: salted(&g.encounter),
            children: g.children.iter().map(salted).collect(),
        };
        let mut out = Vec::new();
        let e = &g.encounter;
        match queue::need(self.row(&e.key, &e.resource_type), &e.hash, self.now) {
            Need::Done(r) => {
                self.refs.insert(e.url.clone(), r);
            }
            Need::Blocked => return Vec::new(),
            n => out.push((e.clone(), n)),
        }
        for c in &g.children {
            match queue::need(self.row(&c.key, &c.resource_type), &c.hash, self.now) {
                Need::Done(r) => {
                    self.refs.insert(c.url.clone(), r);
                }
                Need::Blocked => {}
                n => out.push((c.clone(), n)),
            }
        }
        out
    }

    /// Sends groups of entries as one transaction Bundle; a refusal that names entries
    /// keeps those refused and sends the rest again, one that does not is narrowed down to
    /// one encounter per Bundle.
    async fn submit(
        &mut self,
        groups: Vec<Vec<(Item, Need)>>,
        depth: u8,
    ) -> Result<(), SatusehatError> {
        if self.stopped() || groups.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let flat: Vec<&(Item, Need)> = groups.iter().flatten().collect();
        let org = format!("Organization/{}", self.client.config().organization_id);
        let mut entries = Vec::with_capacity(flat.len());
        let mut refs = self.refs.clone();
        for (item, need) in &flat {
            if let Need::Update(id) = need {
                refs.insert(item.url.clone(), format!("{}/{id}", item.resource_type));
            }
        }
        for (item, need) in &flat {
            let mut r = item.resource.clone();
            queue::resolve(&mut r, &refs);
            replace_org(&mut r, &org);
            let ty = &item.resource_type;
            entries.push(match need {
                Need::Update(id) => {
                    r["id"] = json!(id);
                    json!({"fullUrl": format!("{}/{ty}/{id}", self.client.config().base_url.trim_end_matches('/')),
                           "resource": r, "request": {"method": "PUT", "url": format!("{ty}/{id}")}})
                }
                _ => json!({"fullUrl": item.url, "resource": r,
                            "request": {"method": "POST", "url": ty,
                                        "ifNoneExist": format!("identifier={}|{}", fhir::RECORD_ID, item.url)}}),
            });
        }
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        self.summary.bundles += 1;
        match self.client.transaction(&bundle).await {
            Ok(answer) => {
                let got = answer["entry"].as_array().cloned().unwrap_or_default();
                for (i, (item, need)) in flat.iter().enumerate() {
                    let loc = got
                        .get(i)
                        .and_then(|e| e["response"]["location"].as_str())
                        .and_then(super::client::parse_location);
                    match loc {
                        Some((_, id, v)) => {
                            if matches!(need, Need::Update(_)) {
                                self.summary.updated += 1;
                            } else {
                                self.summary.created += 1;
                            }
                            self.sent(item, id, v).await?;
                        }
                        None => {
                            let why = "the transaction-response names no location for an entry";
                            self.deferred(item, None, why).await?;
                        }
                    }
                }
                Ok(())
            }
            Err(SatusehatError::Refused {
                outcome: oo,
                status,
            }) => {
                let blamed = queue::blamed_entries(&oo);
                let blamed_urls: HashSet<String> = blamed
                    .iter()
                    .filter_map(|&i| flat.get(i).map(|(it, _)| it.url.clone()))
                    .collect();
                if !blamed_urls.is_empty() && depth < 3 {
                    let mut again = Vec::new();
                    for g in &groups {
                        let enc_blamed = g.first().is_some_and(|(it, _)| {
                            it.resource_type == "Encounter" && blamed_urls.contains(&it.url)
                        });
                        let mut rest = Vec::new();
                        for (it, n) in g {
                            if blamed_urls.contains(&it.url) {
                                self.refused(it, &oo).await?;
                            } else if !enc_blamed {
                                rest.push((it.clone(), n.clone()));
                            }
                        }
                        again.push(rest);
                    }
                    return Box::pin(self.submit(again, depth + 1)).await;
                }
                if groups.len() > 1 && depth < 3 {
                    for g in groups {
                        Box::pin(self.submit(vec![g], depth + 1)).await?;
                        if self.stopped() {
                            break;
                        }
                    }
                    return Ok(());
                }
                let items: Vec<&Item> = flat.iter().map(|(i, _)| i).collect();
                self.failed(
                    &items,
                    SatusehatError::Refused {
                        status,
                        outcome: oo,
                    },
                )
                .await
            }
            Err(e) => {
                let items: Vec<&Item> = flat.iter().map(|(i, _)| i).collect();
                self.failed(&items, e).await
            }
        }
    }
}

/// Every reference to a puskesmas Organization of the export names the configured
/// organisation instead.
fn replace_org(v: &mut Value, org: &str) {
    if let Some(p) = v.get_mut("serviceProvider") {
        *p = json!({"reference": org});
    }
}

/// Correcting fact → the first fact of its chain, for the facts of `records`.
async fn correction_roots(
    store: &dyn Storage,
    records: &Records,
) -> Result<HashMap<String, String>, SatusehatError> {
    // fact → what it supersedes, followed upwards a level per query.
    let mut parent: HashMap<String, String> = HashMap::new();
    let mut ask: Vec<String> = Vec::new();
    for f in records.facts.iter().chain(records.visits.values()) {
        if let Some(s) = &f.supersedes {
            parent.insert(f.id.clone(), s.clone());
            ask.push(s.clone());
        }
    }
    for _ in 0..32 {
        ask.retain(|a| !parent.contains_key(a));
        ask.sort();
        ask.dedup();
        if ask.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for chunk in ask.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let rows = store
                .read_rows(
                    format!(
                        "SELECT id, supersedes FROM facts WHERE supersedes IS NOT NULL AND id IN ({})",
                        marks.join(", ")
                    ),
                    chunk.iter().map(|s| Param::Text(s.clone())).collect(),
                )
                .await?;
            for r in rows {
                if let (Some(id), Some(s)) = (
                    r.first().and_then(|c| c.text()),
                    r.get(1).and_then(|c| c.text()),
                ) {
                    parent.insert(id.to_string(), s.to_string());
                    next.push(s.to_string());
                }
            }
        }
        ask = next;
    }
    let mut roots = HashMap::new();
    for id in parent.keys() {
        let mut cur = id.clone();
        for _ in 0..64 {
            match parent.get(&cur) {
                Some(p) if p != id => cur = p.clone(),
                _ => break,
            }
        }
        roots.insert(id.clone(), cur);
    }
    Ok(roots)
}

fn set_practitioners(facts: &mut [FactIn], map: &HashMap<String, String>) {
    for f in facts {
        f.practitioner = f.author_id.as_ref().and_then(|a| map.get(a)).cloned();
    }
}

/// One round at `now_ms`: sends what is new or changed and due, records every outcome.
/// Returns an error only when nothing could be done (configuration, credentials refused,
/// the database).
pub async fn send_once(
    store: &dyn Storage,
    client: &FhirClient,
    now_ms: u64,
) -> Result<Summary, SatusehatError> {
    let cfg = client.config().clone();
    cfg.check().map_err(SatusehatError::Config)?;
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let today = crate::readmodel::reports::today(now_ms);
    let from = if cfg.since.is_empty() {
        chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
    } else {
        chrono::NaiveDate::parse_from_str(&cfg.since, "%Y-%m-%d")
            .map_err(|_| SatusehatError::Config("since must be YYYY-MM-DD".into()))?
    };
    let to = today + chrono::Days::new(1);
    let mut records = fhir::load(store, &cfg.place, from, to).await?;
    let roots = correction_roots(store, &records).await?;
    let mut round = Round {
        store,
        client,
        now,
        rows: store::all(store).await?,
        refs: HashMap::new(),
        summary: Summary::default(),
    };
    let practitioners = round.practitioners(&records).await?;
    if round.stopped() {
        return Ok(round.summary);
    }
    set_practitioners(&mut records.facts, &practitioners);
    for v in records.visits.values_mut() {
        v.practitioner = v
            .author_id
            .as_ref()
            .and_then(|a| practitioners.get(a))
            .cloned();
    }
    let plan = queue::plan(&records, &roots);
    for (person, item) in plan.patients {
        round.patient(&person, item).await?;
        if round.stopped() {
            return Ok(round.summary);
        }
    }
    let max = cfg.bundle_entries.max(1);
    let mut batch: Vec<Vec<(Item, Need)>> = Vec::new();
    let mut size = 0;
    for g in &plan.groups {
        let entries = round.entries(g);
        if entries.is_empty() {
            continue;
        }
        if size > 0 && size + entries.len() > max {
            round.submit(std::mem::take(&mut batch), 0).await?;
            size = 0;
            if round.stopped() {
                return Ok(round.summary);
            }
        }
        size += entries.len();
        batch.push(entries);
    }
    if !batch.is_empty() {
        round.submit(batch, 0).await?;
    }
    Ok(round.summary)
}

/// The background worker of `serve`: a round every `interval_s`, logged; stops with the
/// server. The secret is never logged (only the summary and the error's text).
pub fn spawn(
    store: Arc<dyn Storage>,
    client: FhirClient,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(client.config().interval_s.max(1));
        loop {
            match send_once(store.as_ref(), &client, crate::model::now_ms()).await {
                Ok(s) => tracing::info!(summary = %s, "SATUSEHAT round"),
                Err(e) => tracing::warn!(error = %e, "SATUSEHAT round failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_retry_after() {
        assert_eq!(backoff(1000, 60_000, 1, None), 1000);
        assert_eq!(backoff(1000, 60_000, 3, None), 4000);
        assert_eq!(backoff(1000, 60_000, 20, None), 60_000);
        assert_eq!(
            backoff(1000, 60_000, 1, Some(Duration::from_secs(120))),
            120_000
        );
    }
}
