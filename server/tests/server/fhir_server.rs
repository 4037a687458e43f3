//! A FHIR test server that plays SATUSEHAT's part over real HTTP on a local port (axum):
//! the OAuth2 token endpoint (client credentials; bad credentials refused; tokens expire),
//! Patient search by identifier (`nik`: every NIK is known but those marked unknown;
//! `nik-ibu`: the newborns created here), Patient create (`If-None-Exist`), Practitioner
//! search by NIK, transaction Bundles (`ifNoneExist` honoured, ids assigned, a
//! `transaction-response`), PUT updates, `OperationOutcome` refusals (an Immunization
//! without `lotNumber`, as the platform requires), and faults on chosen transactions: a
//! 500 (with `Retry-After`), an answer slower than the client's timeout, and a Bundle taken
//! whose answer never comes in time. It counts creations per identifier, so a test sees a
//! duplicate.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "jangkau-test-client";
pub const CLIENT_SECRET: &str = "test-secret-never-logged";
pub const NIK: &str = "https://fhir.kemkes.go.id/id/nik";
pub const NIK_IBU: &str = "https://fhir.kemkes.go.id/id/nik-ibu";
const RECORD_ID: &str = "urn:ietf:rfc:3986";

/// What the next transaction meets.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 500 with `Retry-After` (seconds) when given; nothing kept.
    ServerError(Option<u64>),
    /// Waits this long before doing anything (beyond the client's timeout).
    Slow(Duration),
    /// Takes the Bundle (creates, updates), then waits this long before answering.
    AcceptThenSlow(Duration),
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub token_ttl_s: u64,
    tokens: HashMap<String, Instant>,
    pub tokens_issued: u64,
    pub token_refusals: u64,
    pub unauthorised: u64,
    /// NIKs the platform does not know.
    pub unknown_niks: HashSet<String>,
    /// Practitioner NIK → id.
    pub practitioners: HashMap<String, String>,
    /// (type, id) → (resource, version).
    pub resources: HashMap<(String, String), (Value, u32)>,
    /// Record identifier value (`urn:uuid:…`) → creations.
    pub creations: HashMap<String, u32>,
    /// (type, id) of every update.
    pub updates: Vec<(String, String)>,
    pub transactions: u64,
    pub patient_creates: u64,
    pub refusals: u64,
    pub faults: VecDeque<Fault>,
    pub require_lot: bool,
    /// Refusals name no entry (no `expression`), as a terser server would.
    pub vague_refusals: bool,
    next_id: u64,
}

impl FakeState {
    fn new_id(&mut self, ty: &str) -> String {
        self.next_id += 1;
        format!("{}-{:06}", &ty[..3].to_uppercase(), self.next_id)
    }

    /// A resource held here by its record identifier (`urn:uuid:…`).
    pub fn by_record(&self, ty: &str, urn: &str) -> Option<(String, Value)> {
        self.resources.iter().find_map(|((t, id), (r, _))| {
            (t == ty && has_identifier(r, RECORD_ID, urn)).then(|| (id.clone(), r.clone()))
        })
    }

    /// Every token given so far stops working (as after a key rotation).
    pub fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }

    pub fn of_type(&self, ty: &str) -> Vec<Value> {
        self.resources
            .iter()
            .filter(|((t, _), _)| t == ty)
            .map(|(_, (r, _))| r.clone())
            .collect()
    }
}

fn has_identifier(r: &Value, system: &str, value: &str) -> bool {
    r["identifier"].as_array().is_some_and(|ids| {
        ids.iter()
            .any(|i| i["system"] == system && i["value"] == value)
    })
}

fn record_urn(r: &Value) -> Option<String> {
    r["identifier"].as_array().and_then(|ids| {
        ids.iter()
            .find(|i| i["system"] == RECORD_ID)
            .and_then(|i| i["value"].as_str())
            .map(str::to_string)
    })
}

pub type Shared = Arc<Mutex<FakeState>>;

/// The running fake platform.
pub struct FakePlatform {
    pub addr: SocketAddr,
    pub state: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl FakePlatform {
    pub async fn start() -> FakePlatform {
        let state: Shared = Arc::new(Mutex::new(FakeState {
            token_ttl_s: 3600,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route("/oauth2/v1/accesstoken", post(token))
            .route("/fhir-r4/v1", post(transaction))
            .route(
                "/fhir-r4/v1/Patient",
                get(search_patient).post(create_patient),
            )
            .route("/fhir-r4/v1/Practitioner", get(search_practitioner))
            .route("/fhir-r4/v1/{ty}/{id}", put(update))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakePlatform { addr, state, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/fhir-r4/v1", self.addr)
    }

    pub fn auth_url(&self) -> String {
        format!("http://{}/oauth2/v1", self.addr)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().expect("fake state"))
    }
}

impl Drop for FakePlatform {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn fhir(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [("content-type", "application/fhir+json")],
        v.to_string(),
    )
        .into_response()
}

fn oo(code: &str, text: &str, expression: Option<String>) -> Value {
    let mut issue = json!({"severity": "error", "code": code, "diagnostics": text});
    if let Some(e) = expression {
        issue["expression"] = json!([e]);
    }
    json!({"resourceType": "OperationOutcome", "issue": [issue]})
}

async fn token(State(st): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut s = st.lock().expect("state");
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        s.token_refusals += 1;
        return fhir(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_client", "error_description": "Invalid client credentials"}),
        );
    }
    s.tokens_issued += 1;
    let t = format!("tok-{}", s.tokens_issued);
    let ttl = s.token_ttl_s;
    s.tokens
        .insert(t.clone(), Instant::now() + Duration::from_secs(ttl));
    // As the platform: `expires_in` as a string.
    fhir(
        StatusCode::OK,
        &json!({"access_token": t, "token_type": "BearerToken", "expires_in": ttl.to_string(),
                "organization_name": "Puskesmas Uji"}),
    )
}

/// Checks the bearer token; `Err` is the 401.
fn authorised(s: &mut FakeState, h: &HeaderMap) -> Result<(), Box<Response>> {
    let ok = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| s.tokens.get(t))
        .is_some_and(|exp| Instant::now() < *exp);
    if ok {
        Ok(())
    } else {
        s.unauthorised += 1;
        Err(Box::new(fhir(
            StatusCode::UNAUTHORIZED,
            &oo("login", "Access token expired or invalid", None),
        )))
    }
}

fn searchset(rs: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "searchset", "total": rs.len(),
           "entry": rs.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>()})
}

async fn search_patient(
    State(st): State<Shared>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = st.lock().expect("state");
    if let Err(r) = authorised(&mut s, &h) {
        return *r;
    }
    let Some((system, value)) = q.get("identifier").and_then(|i| i.split_once('|')) else {
        return fhir(StatusCode::BAD_REQUEST, &oo("required", "identifier", None));
    };
    let found = match system {
        NIK if !s.unknown_niks.contains(value) => {
            let id = format!("P{value}");
            vec![json!({"resourceType": "Patient", "id": id,
                        "identifier": [{"system": NIK, "value": value}]})]
        }
        NIK => vec![],
        _ => s
            .of_type("Patient")
            .into_iter()
            .filter(|p| has_identifier(p, system, value))
            .collect(),
    };
    fhir(StatusCode::OK, &searchset(found))
}

async fn search_practitioner(
    State(st): State<Shared>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = st.lock().expect("state");
    if let Err(r) = authorised(&mut s, &h) {
        return *r;
    }
    let nik = q
        .get("identifier")
        .and_then(|i| i.strip_prefix(&format!("{NIK}|")))
        .unwrap_or_default();
    let found: Vec<Value> = s
        .practitioners
        .get(nik)
        .map(|id| json!({"resourceType": "Practitioner", "id": id}))
        .into_iter()
        .collect();
    fhir(StatusCode::OK, &searchset(found))
}

async fn create_patient(State(st): State<Shared>, h: HeaderMap, body: Bytes) -> Response {
    let mut s = st.lock().expect("state");
    if let Err(r) = authorised(&mut s, &h) {
        return *r;
    }
    let Ok(mut p) = serde_json::from_slice::<Value>(&body) else {
        return fhir(StatusCode::BAD_REQUEST, &oo("structure", "not JSON", None));
    };
    if let Some(cond) = h.get("if-none-exist").and_then(|v| v.to_str().ok())
        && let Some((sys, val)) = cond.trim_start_matches("identifier=").split_once('|')
        && let Some((id, _)) = s
            .resources
            .iter()
            .find(|((t, _), (r, _))| t == "Patient" && has_identifier(r, sys, val))
    {
        let id = id.1.clone();
        return fhir(
            StatusCode::OK,
            &json!({"resourceType": "Patient", "id": id}),
        );
    }
    if p["identifier"].as_array().is_none_or(|ids| {
        !ids.iter()
            .any(|i| i["system"] == NIK_IBU || i["system"] == NIK)
    }) {
        s.refusals += 1;
        return fhir(
            StatusCode::BAD_REQUEST,
            &oo(
                "required",
                "Patient.identifier nik or nik-ibu is required",
                None,
            ),
        );
    }
    let id = s.new_id("Patient");
    p["id"] = json!(id);
    p["meta"]["versionId"] = json!("1");
    if let Some(u) = record_urn(&p) {
        *s.creations.entry(u).or_default() += 1;
    }
    s.patient_creates += 1;
    s.resources
        .insert(("Patient".into(), id.clone()), (p.clone(), 1));
    fhir(StatusCode::CREATED, &p)
}

async fn update(
    State(st): State<Shared>,
    h: HeaderMap,
    Path((ty, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut s = st.lock().expect("state");
    if let Err(r) = authorised(&mut s, &h) {
        return *r;
    }
    let Ok(mut r) = serde_json::from_slice::<Value>(&body) else {
        return fhir(StatusCode::BAD_REQUEST, &oo("structure", "not JSON", None));
    };
    let key = (ty.clone(), id.clone());
    let Some((_, v)) = s.resources.get(&key).cloned() else {
        return fhir(
            StatusCode::NOT_FOUND,
            &oo("not-found", "no such resource", None),
        );
    };
    r["meta"]["versionId"] = json!((v + 1).to_string());
    s.resources.insert(key, (r.clone(), v + 1));
    s.updates.push((ty, id));
    fhir(StatusCode::OK, &r)
}

/// Replaces `urn:uuid:` references by the ids the Bundle's entries got.
fn resolve(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("reference")
                && let Some(to) = ids.get(r.as_str())
            {
                *r = to.clone();
            }
            o.values_mut().for_each(|x| resolve(x, ids));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| resolve(x, ids)),
        _ => {}
    }
}

async fn transaction(State(st): State<Shared>, h: HeaderMap, body: Bytes) -> Response {
    let fault = {
        let mut s = st.lock().expect("state");
        if let Err(r) = authorised(&mut s, &h) {
            return *r;
        }
        s.transactions += 1;
        s.faults.pop_front()
    };
    match &fault {
        Some(Fault::ServerError(after)) => {
            let mut r = fhir(
                StatusCode::INTERNAL_SERVER_ERROR,
                &oo("exception", "internal error", None),
            );
            if let Some(a) = after
                && let Ok(v) = a.to_string().parse()
            {
                r.headers_mut().insert("retry-after", v);
            }
            return r;
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    let answer = apply(&st, &body);
    if let Some(Fault::AcceptThenSlow(d)) = fault {
        tokio::time::sleep(d).await;
    }
    answer
}

/// Checks then applies a transaction, all or nothing.
fn apply(st: &Shared, body: &[u8]) -> Response {
    let mut s = st.lock().expect("state");
    let Ok(b) = serde_json::from_slice::<Value>(body) else {
        return fhir(StatusCode::BAD_REQUEST, &oo("structure", "not JSON", None));
    };
    if b["resourceType"] != "Bundle" || b["type"] != "transaction" {
        return fhir(
            StatusCode::BAD_REQUEST,
            &oo("invalid", "a transaction Bundle is expected", None),
        );
    }
    let entries = b["entry"].as_array().cloned().unwrap_or_default();
    // Checks first: nothing is kept from a refused Bundle.
    for (i, e) in entries.iter().enumerate() {
        let r = &e["resource"];
        let ty = r["resourceType"].as_str().unwrap_or_default();
        if s.require_lot && ty == "Immunization" && r["lotNumber"].as_str().is_none() {
            s.refusals += 1;
            return fhir(
                StatusCode::BAD_REQUEST,
                &oo(
                    "required",
                    "Immunization.lotNumber: nomor batch vaksin wajib diisi",
                    (!s.vague_refusals).then(|| format!("Bundle.entry[{i}].resource.lotNumber")),
                ),
            );
        }
        if e["request"]["method"] == "PUT" {
            let url = e["request"]["url"].as_str().unwrap_or_default();
            let key = url
                .split_once('/')
                .map(|(t, id)| (t.to_string(), id.to_string()));
            if key.is_none_or(|k| !s.resources.contains_key(&k)) {
                s.refusals += 1;
                return fhir(
                    StatusCode::NOT_FOUND,
                    &oo(
                        "not-found",
                        "no such resource",
                        Some(format!("Bundle.entry[{i}]")),
                    ),
                );
            }
        }
        let subject = r["subject"]["reference"]
            .as_str()
            .or_else(|| r["patient"]["reference"].as_str())
            .unwrap_or_default();
        if subject.starts_with("urn:") {
            s.refusals += 1;
            return fhir(
                StatusCode::BAD_REQUEST,
                &oo(
                    "invalid",
                    "the Patient must exist",
                    Some(format!("Bundle.entry[{i}]")),
                ),
            );
        }
    }
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut answers = Vec::new();
    let mut staged: Vec<(String, String, Value, u32, bool)> = Vec::new();
    for e in &entries {
        let r = e["resource"].clone();
        let ty = r["resourceType"].as_str().unwrap_or_default().to_string();
        let full = e["fullUrl"].as_str().unwrap_or_default().to_string();
        if e["request"]["method"] == "PUT" {
            let url = e["request"]["url"].as_str().unwrap_or_default();
            let (_, id) = url.split_once('/').unwrap_or_default();
            let v = s
                .resources
                .get(&(ty.clone(), id.to_string()))
                .map_or(1, |x| x.1 + 1);
            ids.insert(full, format!("{ty}/{id}"));
            staged.push((ty, id.to_string(), r, v, false));
            continue;
        }
        let existing = e["request"]["ifNoneExist"]
            .as_str()
            .and_then(|c| c.trim_start_matches("identifier=").split_once('|'))
            .and_then(|(_, val)| s.by_record(&ty, val));
        match existing {
            Some((id, _)) => {
                ids.insert(full, format!("{ty}/{id}"));
                staged.push((ty, id, Value::Null, 0, false));
            }
            None => {
                let id = s.new_id(&ty);
                ids.insert(full, format!("{ty}/{id}"));
                staged.push((ty, id, r, 1, true));
            }
        }
    }
    for (ty, id, mut r, v, created) in staged {
        if v == 0 {
            answers.push(json!({"response": {"status": "200 OK",
                "location": format!("{ty}/{id}/_history/1")}}));
            continue;
        }
        resolve(&mut r, &ids);
        r["id"] = json!(id);
        r["meta"]["versionId"] = json!(v.to_string());
        if created {
            if let Some(u) = record_urn(&r) {
                *s.creations.entry(u).or_default() += 1;
            }
        } else {
            s.updates.push((ty.clone(), id.clone()));
        }
        s.resources.insert((ty.clone(), id.clone()), (r, v));
        answers.push(json!({"response": {
            "status": if created { "201 Created" } else { "200 OK" },
            "location": format!("{ty}/{id}/_history/{v}"), "etag": format!("W/\"{v}\"")}}));
    }
    fhir(
        StatusCode::OK,
        &json!({"resourceType": "Bundle", "type": "transaction-response", "entry": answers}),
    )
}
