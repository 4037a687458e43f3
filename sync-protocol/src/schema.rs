//! The body schema of every entity kind, versions 1 and 2: which fields a body may carry,
//! their types and ranges, and which are required. Device and server validate with the same table,
//! so a change the device accepts is one the server accepts (scope aside).
//!
//! Every record names the posyandu it belongs to (`posyandu`, a place code): facts in every
//! body, mutable records in the change that creates them. That is what scope checks and pull
//! filters use.

use crate::change::Change;
use crate::entity::{Class, EntityKind};
use crate::wire::{RejectCode, Rejection};
use serde_json::Value;

/// The body schema version this crate writes. Schema 2 is schema 1 plus optional fields
/// (the fields marked `since: 2` below) and the kinds added after schema 1
/// ([`kind_since`]); a change of schema 1 is still accepted and never uses them.
pub const SCHEMA_VERSION: u16 = 2;
/// The oldest body schema version still accepted.
pub const MIN_SCHEMA_VERSION: u16 = 1;

/// The newest body schema a peer speaking `protocol` reads and writes: protocol 1 knows
/// schema 1 only, protocol 2 schemas 1 and 2.
pub fn max_schema_for_protocol(protocol: u16) -> u16 {
    if protocol <= 1 { 1 } else { SCHEMA_VERSION }
}

/// The kinds of body schema 1. Every kind added later needs schema 2 (a peer of protocol 1
/// cannot even parse its name).
pub const SCHEMA_1_KINDS: [EntityKind; 15] = [
    EntityKind::Household,
    EntityKind::Person,
    EntityKind::Pregnancy,
    EntityKind::Referral,
    EntityKind::PosyanduSession,
    EntityKind::Visit,
    EntityKind::Measurement,
    EntityKind::Immunisation,
    EntityKind::Supplement,
    EntityKind::Screening,
    EntityKind::AncContact,
    EntityKind::ReferralEvent,
    EntityKind::Note,
    EntityKind::PersonMerge,
    EntityKind::ConflictReview,
];

/// The first body schema version that has `kind`.
pub fn kind_since(kind: EntityKind) -> u16 {
    if SCHEMA_1_KINDS.contains(&kind) { 1 } else { 2 }
}

/// The largest change, as compact JSON (envelope and body), in bytes. Every field has its
/// own limit below; this one bounds their sum, so that no change can make a pull page too
/// large for a device (the largest legitimate change, a visit with its three long texts
/// full, is under 40 KiB even with every character escaped). Refused as `too_large`.
pub const MAX_CHANGE_BYTES: usize = 64 * 1024;

/// The longest name of one screening answer, in characters.
pub const MAX_ANSWER_KEY_CHARS: usize = 64;
/// The longest text of one screening answer, in characters.
pub const MAX_ANSWER_TEXT_CHARS: usize = 500;
/// The most items in one answer that is a list.
pub const MAX_ANSWER_LIST: usize = 64;
/// The longest text of one item of an answer list, in characters.
pub const MAX_ANSWER_ITEM_CHARS: usize = 120;

pub use crate::change::{MAX_BASE_ENTRIES, MAX_FIELD_NAME_BYTES, MAX_SEQ};

/// The size of a change as compact JSON, counted without building it.
pub fn json_size(change: &Change) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    match serde_json::to_writer(&mut c, change) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}

/// The type of one body field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldType {
    /// Free text up to `max` characters.
    Text {
        max: usize,
    },
    /// Exactly `len` ASCII digits (NIK and No KK: 16).
    Digits {
        len: usize,
    },
    /// A place code such as `53.04.05.2001.P01`.
    PlaceCode,
    /// The id of another record.
    Ref,
    /// The stamp of one edit, `<hlc>.<device>` (see [`crate::Stamp`]).
    StampRef,
    /// A calendar date `YYYY-MM-DD`, not after today.
    Date,
    /// A calendar date `YYYY-MM-DD` that may be in the future (a follow-up date).
    PlannedDate,
    /// A local time of day `HH:MM` (24-hour clock).
    Time,
    /// A code of `min` to `max` ASCII digits (a KFA product code).
    DigitCode {
        min: usize,
        max: usize,
    },
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    Number {
        min: f64,
        max: f64,
    },
    /// One of a fixed list of codes.
    Enum(&'static [&'static str]),
    /// A JSON object of structured answers (screenings), up to `max_keys` keys.
    Answers {
        max_keys: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    /// Required in every fact body, or in the change that creates a mutable record.
    pub required: bool,
    /// The first body schema version with this field.
    pub since: u16,
}

const fn req(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: true,
        since: 1,
    }
}

const fn opt(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        since: 1,
    }
}

/// An optional field added in body schema 2.
const fn opt2(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        since: 2,
    }
}

/// A newborn's birth weight in kg (schema 2): wider than any live birth, to catch typing
/// errors (grams typed as kg).
pub const BIRTH_WEIGHT_KG: (f64, f64) = (0.3, 7.0);
/// A newborn's birth length in cm (schema 2).
pub const BIRTH_LENGTH_CM: (f64, f64) = (20.0, 65.0);
/// A KFA product code: digits only (the Kamus Farmasi dan Alat Kesehatan's product codes
/// are numbers such as `93000631`).
pub const KFA_CODE_DIGITS: (usize, usize) = (6, 20);

const NAME: FieldType = FieldType::Text { max: 120 };
const SHORT: FieldType = FieldType::Text { max: 40 };
const LONG: FieldType = FieldType::Text { max: 2_000 };
const PLACE: FieldType = FieldType::PlaceCode;

/// Measurement types and the plausible range of their value (a wider range than any person,
/// to catch typing errors; health-rules flags the merely unlikely).
pub const MEASUREMENT_RANGES: &[(&str, &str, f64, f64)] = &[
    ("weight", "kg", 0.3, 300.0),
    ("length_height", "cm", 20.0, 250.0),
    ("head", "cm", 20.0, 70.0),
    ("muac", "cm", 5.0, 60.0),
    ("waist", "cm", 30.0, 250.0),
    ("bp_systolic", "mmHg", 40.0, 300.0),
    ("bp_diastolic", "mmHg", 20.0, 200.0),
    ("blood_sugar", "mg/dL", 20.0, 800.0),
    ("hb", "g/dL", 2.0, 25.0),
    ("temperature", "C", 30.0, 45.0),
];

const MEASUREMENT_TYPES: &[&str] = &[
    "weight",
    "length_height",
    "head",
    "muac",
    "waist",
    "bp_systolic",
    "bp_diastolic",
    "blood_sugar",
    "hb",
    "temperature",
];

static HOUSEHOLD: &[FieldSpec] = &[
    req("posyandu", PLACE),
    opt("kk_number", FieldType::Digits { len: 16 }),
    req("head_name", NAME),
    opt("address", LONG),
    opt("dusun", SHORT),
    opt("rt", SHORT),
    opt("rw", SHORT),
    opt("phone", SHORT),
    opt("jkn", FieldType::Bool),
    opt("latrine", FieldType::Bool),
    opt(
        "water_source",
        FieldType::Enum(&[
            "piped", "well", "spring", "rain", "river", "bought", "other",
        ]),
    ),
];

static PERSON: &[FieldSpec] = &[
    req("posyandu", PLACE),
    opt("household", FieldType::Ref),
    req("name", NAME),
    req("sex", FieldType::Enum(&["male", "female"])),
    req("birth_date", FieldType::Date),
    opt("birth_date_estimated", FieldType::Bool),
    opt("nik", FieldType::Digits { len: 16 }),
    opt("mother", FieldType::Ref),
    opt(
        "relation",
        FieldType::Enum(&["head", "spouse", "child", "parent", "grandchild", "other"]),
    ),
    opt("status", FieldType::Enum(&["active", "moved", "died"])),
    opt("status_date", FieldType::Date),
    opt("phone", SHORT),
    opt("jkn_number", FieldType::Digits { len: 13 }),
    opt("has_kms", FieldType::Bool),
    opt("rt", SHORT),
    // Schema 2: the newborn's birth, recorded where the child is registered.
    opt2(
        "birth_weight",
        FieldType::Number {
            min: BIRTH_WEIGHT_KG.0,
            max: BIRTH_WEIGHT_KG.1,
        },
    ),
    opt2(
        "birth_length",
        FieldType::Number {
            min: BIRTH_LENGTH_CM.0,
            max: BIRTH_LENGTH_CM.1,
        },
    ),
    opt2("birth_time", FieldType::Time),
];

static PREGNANCY: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    opt("hpht", FieldType::Date),
    opt("gravida", FieldType::Int { min: 1, max: 20 }),
    opt("para", FieldType::Int { min: 0, max: 20 }),
    opt("delivery_date", FieldType::Date),
    opt(
        "outcome",
        FieldType::Enum(&["live_birth", "stillbirth", "miscarriage", "other"]),
    ),
    opt(
        "status",
        FieldType::Enum(&["ongoing", "delivered", "ended"]),
    ),
];

static REFERRAL: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    req("reason", LONG),
    req(
        "destination",
        FieldType::Enum(&["pustu", "puskesmas", "hospital"]),
    ),
    opt("destination_name", NAME),
    req("status", FieldType::Enum(&crate::entity::REFERRAL_STATUSES)),
    opt("visit", FieldType::Ref),
    opt("outcome", LONG),
];

static POSYANDU_SESSION: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("date", FieldType::Date),
    opt(
        "service_order",
        FieldType::Enum(&["services_first", "counselling_first"]),
    ),
];

static VISIT: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    req("type", FieldType::Enum(&["posyandu", "home"])),
    opt("date", FieldType::Date),
    opt("session", FieldType::Ref),
    opt("household", FieldType::Ref),
    opt("findings", LONG),
    opt("education", LONG),
    opt("counselling", LONG),
    opt("follow_up_date", FieldType::PlannedDate),
    opt("reminded_to_facility", FieldType::Bool),
    opt("reported_to_health_worker", FieldType::Date),
    opt("family_acknowledged", FieldType::Bool),
];

static MEASUREMENT: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    opt("visit", FieldType::Ref),
    req("type", FieldType::Enum(MEASUREMENT_TYPES)),
    req(
        "value",
        FieldType::Number {
            min: 0.0,
            max: 1_000.0,
        },
    ),
    req(
        "unit",
        FieldType::Enum(&["kg", "cm", "mmHg", "mg/dL", "g/dL", "C"]),
    ),
    opt("position", FieldType::Enum(&["lying", "standing"])),
    opt("date", FieldType::Date),
    opt("measured_by", NAME),
    // Schema 2: bilateral pitting oedema, seen at a weighing (weight measurements only).
    opt2("oedema", FieldType::Bool),
];

static IMMUNISATION: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    opt("visit", FieldType::Ref),
    req("vaccine", SHORT),
    req("date", FieldType::Date),
    // The vial's lot number (since schema 1).
    opt("batch", SHORT),
    opt("catch_up", FieldType::Bool),
    // Schema 2: the vaccine's KFA product code and the vial's expiry date.
    opt2(
        "kfa_code",
        FieldType::DigitCode {
            min: KFA_CODE_DIGITS.0,
            max: KFA_CODE_DIGITS.1,
        },
    ),
    opt2("expiry", FieldType::PlannedDate),
];

static SUPPLEMENT: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    opt("visit", FieldType::Ref),
    req(
        "supplement",
        FieldType::Enum(&[
            "vitamin_a_blue",
            "vitamin_a_red",
            "vitamin_a",
            "iron",
            "ttd",
            "deworming",
            "pmt",
            "ors_zinc",
        ]),
    ),
    req("date", FieldType::Date),
    opt("quantity", FieldType::Int { min: 1, max: 1_000 }),
];

static SCREENING: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    opt("visit", FieldType::Ref),
    req(
        "instrument",
        FieldType::Enum(&[
            "tb",
            "ptm",
            "lansia_aks",
            "lansia_skilas",
            "mental_health",
            "breastfeeding",
            "danger_signs",
        ]),
    ),
    req("date", FieldType::Date),
    req("answers", FieldType::Answers { max_keys: 64 }),
    opt("result", SHORT),
];

static ANC_CONTACT: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("person", FieldType::Ref),
    req("pregnancy", FieldType::Ref),
    req("contact", FieldType::Int { min: 1, max: 12 }),
    req("date", FieldType::Date),
    opt("place", NAME),
    opt("by", NAME),
    opt("by_doctor", FieldType::Bool),
    opt("ultrasound", FieldType::Bool),
];

static REFERRAL_EVENT: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("referral", FieldType::Ref),
    req("status", FieldType::Enum(&crate::entity::REFERRAL_STATUSES)),
    req("date", FieldType::Date),
    opt("note", LONG),
];

static NOTE: &[FieldSpec] = &[
    req("posyandu", PLACE),
    opt("person", FieldType::Ref),
    opt("household", FieldType::Ref),
    req("text", LONG),
];

static PERSON_MERGE: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("kept", FieldType::Ref),
    req("merged", FieldType::Ref),
    opt("reason", LONG),
];

static CONFLICT_REVIEW: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("record", FieldType::Ref),
    req("field", SHORT),
    req("loser", FieldType::StampRef),
    req("decision", FieldType::Enum(&["keep_winner", "use_loser"])),
    opt("note", LONG),
];

/// `first` < `second` as strings (the canonical order of the pair; checked by
/// [`validate`]), `posyandu` is `first`'s.
static DUPLICATE_DISMISSAL: &[FieldSpec] = &[
    req("posyandu", PLACE),
    req("first", FieldType::Ref),
    req("second", FieldType::Ref),
    opt("note", LONG),
];

/// The fields of a kind.
pub fn fields(kind: EntityKind) -> &'static [FieldSpec] {
    match kind {
        EntityKind::Household => HOUSEHOLD,
        EntityKind::Person => PERSON,
        EntityKind::Pregnancy => PREGNANCY,
        EntityKind::Referral => REFERRAL,
        EntityKind::PosyanduSession => POSYANDU_SESSION,
        EntityKind::Visit => VISIT,
        EntityKind::Measurement => MEASUREMENT,
        EntityKind::Immunisation => IMMUNISATION,
        EntityKind::Supplement => SUPPLEMENT,
        EntityKind::Screening => SCREENING,
        EntityKind::AncContact => ANC_CONTACT,
        EntityKind::ReferralEvent => REFERRAL_EVENT,
        EntityKind::Note => NOTE,
        EntityKind::PersonMerge => PERSON_MERGE,
        EntityKind::ConflictReview => CONFLICT_REVIEW,
        EntityKind::DuplicateDismissal => DUPLICATE_DISMISSAL,
    }
}

fn reject(code: RejectCode, field: &str, message: String) -> Rejection {
    Rejection::new(code, message, Some(field))
}

/// Validates a change against the schema. `creates` says whether the change creates its
/// record (always for facts; for a mutable record, when the validator has not seen it), in
/// which case required fields must be present. `today` (`YYYY-MM-DD`) bounds dates: a
/// server passes the latest calendar date on Earth (its clock at UTC+14), so that no device
/// in any time zone is refused for today's date; a device passes its local date.
/// Text lengths count Unicode scalar values; integers are written without fraction or
/// exponent.
pub fn validate(change: &Change, creates: bool, today: &str) -> Result<(), Rejection> {
    validate_up_to(change, creates, today, SCHEMA_VERSION)
}

/// As [`validate`], for a peer that may write body schemas up to `max_schema` (a server
/// judging a push of protocol 1 passes 1: [`max_schema_for_protocol`]).
pub fn validate_up_to(
    change: &Change,
    creates: bool,
    today: &str,
    max_schema: u16,
) -> Result<(), Rejection> {
    validate_with_size(change, creates, today, max_schema, None)
}

/// As [`validate`], for a change whose compact JSON is at hand: `json_len` is its length
/// (`serde_json::to_string(change)`, which is what [`json_size`] counts), so the change is not
/// serialised again to measure it.
pub fn validate_sized(
    change: &Change,
    creates: bool,
    today: &str,
    json_len: usize,
) -> Result<(), Rejection> {
    validate_with_size(change, creates, today, SCHEMA_VERSION, Some(json_len))
}

fn validate_with_size(
    change: &Change,
    creates: bool,
    today: &str,
    max_schema: u16,
    json_len: Option<usize>,
) -> Result<(), Rejection> {
    if let Err(e) = change.check_envelope() {
        return Err(reject(
            RejectCode::InvalidEnvelope,
            e.field(),
            e.to_string(),
        ));
    }
    let max_schema = max_schema.min(SCHEMA_VERSION);
    if !(MIN_SCHEMA_VERSION..=max_schema).contains(&change.schema) {
        return Err(reject(
            RejectCode::UnsupportedSchema,
            "schema",
            format!(
                "body schema version {} is not supported (expected {MIN_SCHEMA_VERSION}–{max_schema})",
                change.schema
            ),
        ));
    }
    if kind_since(change.kind) > change.schema {
        return Err(reject(
            RejectCode::UnsupportedSchema,
            "kind",
            format!(
                "a {} needs body schema {} or later (this change says {})",
                change.kind,
                kind_since(change.kind),
                change.schema
            ),
        ));
    }
    let size = json_len.unwrap_or_else(|| json_size(change));
    if size > MAX_CHANGE_BYTES {
        return Err(reject(
            RejectCode::TooLarge,
            "body",
            format!(
                "the change is {size} bytes of JSON; the limit of one change is {MAX_CHANGE_BYTES}"
            ),
        ));
    }
    if change.tombstone {
        return Ok(());
    }
    let specs = fields(change.kind);
    for (name, value) in &change.body {
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            // The name is echoed in the answer: a short prefix only.
            let shown: String = name.chars().take(MAX_FIELD_NAME_BYTES).collect();
            return Err(reject(
                RejectCode::InvalidBody,
                &shown,
                format!("a {} has no field {shown:?}", change.kind),
            ));
        };
        if spec.since > change.schema {
            return Err(reject(
                RejectCode::InvalidBody,
                name,
                format!(
                    "the field {name:?} needs body schema {} (this change says {})",
                    spec.since, change.schema
                ),
            ));
        }
        check_value(spec, value, today)?;
    }
    let must_be_complete = creates || change.kind.class() == Class::Fact;
    if must_be_complete
        && let Some(missing) = specs
            .iter()
            .find(|s| s.required && !change.body.contains_key(s.name))
    {
        return Err(reject(
            RejectCode::InvalidBody,
            missing.name,
            format!("a new {} needs the field {:?}", change.kind, missing.name),
        ));
    }
    match change.kind {
        EntityKind::Measurement => check_measurement(change)?,
        EntityKind::Immunisation => check_immunisation(change)?,
        _ => {}
    }
    if change.kind == EntityKind::DuplicateDismissal {
        check_pair_order(change)?;
    }
    Ok(())
}

/// A `duplicate_dismissal` names its pair in one canonical order, `first` < `second` as
/// strings, so that two tablets dismissing the same pair write facts about the same
/// (person, subject).
fn check_pair_order(change: &Change) -> Result<(), Rejection> {
    let first = change.body.get("first").and_then(Value::as_str);
    let second = change.body.get("second").and_then(Value::as_str);
    match (first, second) {
        (Some(a), Some(b)) if a >= b => Err(reject(
            RejectCode::InvalidValue,
            "second",
            "second must sort after first (the canonical order of the pair)".into(),
        )),
        _ => Ok(()),
    }
}

/// An expiry date before the dose's date means the vial had expired: refused, so that a
/// typing error (the year) is caught while the vial is still at hand.
fn check_immunisation(change: &Change) -> Result<(), Rejection> {
    let text = |f: &str| change.body.get(f).and_then(Value::as_str);
    if let (Some(expiry), Some(date)) = (text("expiry"), text("date"))
        && expiry < date
    {
        return Err(reject(
            RejectCode::InvalidValue,
            "expiry",
            format!("the vial expired on {expiry}, before the dose's date {date}"),
        ));
    }
    Ok(())
}

/// What a peer speaking `protocol` is sent of a stored change: the change itself for
/// protocol 2 and later; for protocol 1, the change as body schema 1 (`schema: 1`), its
/// schema-2 fields (and their `base` entries) left out. `None` when nothing of it is
/// schema 1: a kind added after schema 1, or an edit that set only schema-2 fields. Facts
/// and field edits merge per field and by id, so the projection never rewrites what it
/// leaves out; a later full copy of a fact (the same stamp, more fields) is kept over the
/// projection by every replica (`merge::FactVersion::precedes`).
pub fn downgrade(change: &Change, protocol: u16) -> Option<std::borrow::Cow<'_, Change>> {
    use std::borrow::Cow;
    let max = max_schema_for_protocol(protocol);
    if change.schema <= max {
        return Some(Cow::Borrowed(change));
    }
    if kind_since(change.kind) > max {
        return None;
    }
    let specs = fields(change.kind);
    let newer = |name: &str| {
        specs
            .iter()
            .find(|s| s.name == name)
            .is_none_or(|s| s.since > max)
    };
    let mut out = change.clone();
    out.schema = max;
    if !change.tombstone {
        out.body.retain(|k, _| !newer(k));
        out.base.retain(|k, _| !newer(k));
        if out.body.is_empty() {
            return None;
        }
    }
    Some(Cow::Owned(out))
}

/// True when a change sets a field of a schema newer than `max_schema`, or is of a newer
/// kind: what [`downgrade`] would change.
pub fn uses_newer_schema(change: &Change, max_schema: u16) -> bool {
    change.schema > max_schema
        && (kind_since(change.kind) > max_schema
            || change.body.keys().any(|k| {
                fields(change.kind)
                    .iter()
                    .find(|s| s.name == k)
                    .is_none_or(|s| s.since > max_schema)
            }))
}

fn check_value(spec: &FieldSpec, value: &Value, today: &str) -> Result<(), Rejection> {
    let name = spec.name;
    let bad_type = |what: &str| {
        reject(
            RejectCode::InvalidBody,
            name,
            format!("{name} must be {what}"),
        )
    };
    let bad_value = |what: String| reject(RejectCode::InvalidValue, name, format!("{name} {what}"));
    if value.is_null() && !spec.required {
        return Ok(()); // clearing an optional field
    }
    match spec.ty {
        FieldType::Text { max } => {
            let s = value.as_str().ok_or_else(|| bad_type("text"))?;
            if s.chars().count() > max {
                return Err(bad_value(format!("is longer than {max} characters")));
            }
            if spec.required && s.trim().is_empty() {
                return Err(bad_value("must not be empty".into()));
            }
        }
        FieldType::Digits { len } => {
            let s = value.as_str().ok_or_else(|| bad_type("text of digits"))?;
            if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad_value(format!("must be exactly {len} digits")));
            }
        }
        FieldType::PlaceCode => {
            let s = value.as_str().ok_or_else(|| bad_type("a place code"))?;
            let ok = !s.is_empty()
                && s.len() <= 40
                && s.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
            if !ok {
                return Err(bad_value(
                    "is not a place code like 53.04.05.2001.P01".into(),
                ));
            }
        }
        FieldType::Ref => {
            let s = value.as_str().ok_or_else(|| bad_type("a record id"))?;
            if crate::ids::parse_canonical_uuid(s).is_none() {
                return Err(bad_value(
                    "is not a record id (lowercase hyphenated UUID)".into(),
                ));
            }
        }
        FieldType::StampRef => {
            let s = value.as_str().ok_or_else(|| bad_type("a stamp"))?;
            if s.parse::<crate::Stamp>().is_err() {
                return Err(bad_value("is not a stamp <hlc>.<device>".into()));
            }
        }
        FieldType::Date => {
            let s = value
                .as_str()
                .ok_or_else(|| bad_type("a date YYYY-MM-DD"))?;
            if !is_valid_date(s) {
                return Err(bad_value(format!("{s:?} is not a date YYYY-MM-DD")));
            }
            if s > today {
                return Err(bad_value(format!("{s} is in the future")));
            }
            if s < "1900-01-01" {
                return Err(bad_value(format!("{s} is before 1900")));
            }
        }
        FieldType::PlannedDate => {
            let s = value
                .as_str()
                .ok_or_else(|| bad_type("a date YYYY-MM-DD"))?;
            if !is_valid_date(s) || s < "1900-01-01" {
                return Err(bad_value(format!("{s:?} is not a date YYYY-MM-DD")));
            }
        }
        FieldType::Time => {
            let s = value.as_str().ok_or_else(|| bad_type("a time HH:MM"))?;
            if !is_valid_time(s) {
                return Err(bad_value(format!(
                    "{s:?} is not a time HH:MM (00:00 to 23:59)"
                )));
            }
        }
        FieldType::DigitCode { min, max } => {
            let s = value.as_str().ok_or_else(|| bad_type("text of digits"))?;
            if !(min..=max).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad_value(format!("must be {min} to {max} digits")));
            }
        }
        FieldType::Bool => {
            value.as_bool().ok_or_else(|| bad_type("true or false"))?;
        }
        FieldType::Int { min, max } => {
            let n = value.as_i64().ok_or_else(|| bad_type("a whole number"))?;
            if n < min || n > max {
                return Err(bad_value(format!("must be between {min} and {max}")));
            }
        }
        FieldType::Number { min, max } => {
            let n = value.as_f64().ok_or_else(|| bad_type("a number"))?;
            if !(min..=max).contains(&n) {
                return Err(bad_value(format!("must be between {min} and {max}")));
            }
        }
        FieldType::Enum(allowed) => {
            let s = value.as_str().ok_or_else(|| bad_type("a code"))?;
            if !allowed.contains(&s) {
                return Err(bad_value(format!("must be one of {}", allowed.join(", "))));
            }
        }
        FieldType::Answers { max_keys } => {
            let o = value
                .as_object()
                .ok_or_else(|| bad_type("an object of answers"))?;
            if o.len() > max_keys {
                return Err(bad_value(format!("has more than {max_keys} answers")));
            }
            if let Some(k) = o
                .keys()
                .find(|k| k.is_empty() || k.chars().count() > MAX_ANSWER_KEY_CHARS)
            {
                let shown: String = k.chars().take(MAX_ANSWER_KEY_CHARS).collect();
                return Err(bad_value(format!(
                    "has an answer name {shown:?}… that is empty or longer than {MAX_ANSWER_KEY_CHARS} characters"
                )));
            }
            let plain = |v: &Value| !(v.is_object() || v.is_array());
            let ok = o.values().all(|v| match v {
                Value::Array(a) => a.len() <= MAX_ANSWER_LIST && a.iter().all(plain),
                other => plain(other),
            });
            if !ok {
                return Err(bad_value(format!(
                    "answers must be plain values or lists of at most {MAX_ANSWER_LIST} plain values"
                )));
            }
            let too_long =
                |v: &Value, max: usize| v.as_str().is_some_and(|t| t.chars().count() > max);
            let long = o.values().any(|v| match v {
                Value::Array(a) => a.iter().any(|x| too_long(x, MAX_ANSWER_ITEM_CHARS)),
                other => too_long(other, MAX_ANSWER_TEXT_CHARS),
            });
            if long {
                return Err(bad_value(format!(
                    "has an answer longer than {MAX_ANSWER_TEXT_CHARS} characters (or a list item longer than {MAX_ANSWER_ITEM_CHARS})"
                )));
            }
        }
    }
    Ok(())
}

fn check_measurement(change: &Change) -> Result<(), Rejection> {
    let ty = change
        .body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let unit = change
        .body
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let value = change
        .body
        .get("value")
        .and_then(Value::as_f64)
        .unwrap_or_default();
    let Some((_, want_unit, min, max)) = MEASUREMENT_RANGES.iter().find(|(t, ..)| *t == ty) else {
        return Ok(());
    };
    if unit != *want_unit {
        return Err(reject(
            RejectCode::InvalidValue,
            "unit",
            format!("a {ty} is measured in {want_unit}, not {unit}"),
        ));
    }
    if !(*min..=*max).contains(&value) {
        return Err(reject(
            RejectCode::InvalidValue,
            "value",
            format!("a {ty} of {value} {unit} is outside {min}–{max}"),
        ));
    }
    if change.body.get("oedema").is_some_and(|v| !v.is_null()) && ty != "weight" {
        return Err(reject(
            RejectCode::InvalidBody,
            "oedema",
            format!("oedema is recorded with a weight, not with a {ty}"),
        ));
    }
    if ty == "length_height" && change.body.get("position").is_none_or(Value::is_null) {
        return Err(reject(
            RejectCode::InvalidBody,
            "position",
            "a length or height needs the position: lying or standing".into(),
        ));
    }
    Ok(())
}

/// A mutable record stays in the posyandu that created it (its `posyandu` is what scope
/// and pull filters use). A change that sets another `posyandu` is refused; a person who
/// moves is marked `moved` and registered again in the new posyandu, linked by a
/// `person_merge`.
pub fn check_area_unchanged(change: &Change, stored_posyandu: &str) -> Result<(), Rejection> {
    match change.body.get("posyandu").and_then(Value::as_str) {
        Some(p) if p != stored_posyandu => Err(reject(
            RejectCode::InvalidValue,
            "posyandu",
            format!(
                "a {} stays in posyandu {stored_posyandu}; register it again in {p}",
                change.kind
            ),
        )),
        _ => Ok(()),
    }
}

/// `HH:MM`, 00:00 to 23:59.
pub fn is_valid_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return false;
    }
    let h = (b[0] - b'0') * 10 + (b[1] - b'0');
    let m = (b[3] - b'0') * 10 + (b[4] - b'0');
    h < 24 && m < 60
}

/// `YYYY-MM-DD` naming a real day of the Gregorian calendar.
pub fn is_valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}
