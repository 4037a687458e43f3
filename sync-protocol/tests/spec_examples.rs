//! Every JSON example in `docs/sync-protocol.md` parses as the type it illustrates, passes
//! validation, and re-serialises to the same JSON: the spec and the crate cannot drift apart.
#![allow(clippy::unwrap_used)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sync_protocol::codec::decode_json;
use sync_protocol::schema::validate;
use sync_protocol::*;

const SPEC: &str = include_str!("../../docs/sync-protocol.md");

/// `(name, json)` of every fenced block opened with "```json <name>".
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = SPEC.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("```json") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            out.push((name.trim().to_string(), body.join("\n")));
        }
    }
    out
}

fn round_trip<T: Serialize + DeserializeOwned + WireMessage>(name: &str, json: &str) -> T {
    let msg: T =
        decode_json(json.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let original: Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        original,
        "{name} does not round-trip"
    );
    msg
}

fn check_change(name: &str, c: &Change, creates: bool) {
    assert_eq!(validate(c, creates, "2025-11-23"), Ok(()), "{name}: {c:?}");
}

#[test]
fn every_example_in_the_spec_is_valid() {
    let examples = examples();
    let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "change",
        "enrol-request",
        "enrol-response",
        "login-request",
        "login-response",
        "status-request",
        "status-response",
        "push-request",
        "push-response",
        "pull-request",
        "pull-response",
        "places-response",
        "error-body",
    ] {
        assert!(names.contains(&want), "the spec has no {want} example");
    }
    for (name, json) in &examples {
        match name.as_str() {
            "change" => {
                let c: Change = serde_json::from_str(json).unwrap();
                assert_eq!(
                    serde_json::to_value(&c).unwrap(),
                    serde_json::from_str::<Value>(json).unwrap()
                );
                check_change(name, &c, true);
            }
            "enrol-request" => drop(round_trip::<EnrolRequest>(name, json)),
            "enrol-response" => drop(round_trip::<EnrolResponse>(name, json)),
            "login-request" => drop(round_trip::<LoginRequest>(name, json)),
            "login-response" => drop(round_trip::<LoginResponse>(name, json)),
            "status-request" => drop(round_trip::<StatusRequest>(name, json)),
            "status-response" => {
                let s: StatusResponse = round_trip(name, json);
                assert_eq!(
                    s.limits,
                    Limits::default(),
                    "the example shows the default limits"
                );
            }
            "push-request" => {
                let p: PushRequest = round_trip(name, json);
                for c in &p.changes {
                    check_change(name, c, true);
                }
            }
            "push-response" => drop(round_trip::<PushResponse>(name, json)),
            "pull-request" => drop(round_trip::<PullRequest>(name, json)),
            "pull-response" => {
                let p: PullResponse = round_trip(name, json);
                for c in &p.changes {
                    check_change(name, c, false);
                }
            }
            "places-response" => {
                let p: PlacesResponse = round_trip(name, json);
                // Every place but the kabupaten names a parent that comes before it.
                for (i, place) in p.places.iter().enumerate() {
                    match &place.parent {
                        None => assert_eq!(place.level, PlaceLevel::Kabupaten, "{name}"),
                        Some(parent) => assert!(
                            p.places[..i].iter().any(|q| &q.code == parent),
                            "{name}: the parent of {} is not listed before it",
                            place.code
                        ),
                    }
                }
            }
            "error-body" => drop(round_trip::<ErrorBody>(name, json)),
            other => panic!("unknown example name {other:?}"),
        }
    }
}

#[test]
fn every_code_in_the_spec_tables_exists_and_vice_versa() {
    let codes = [
        ErrorCode::ProtocolUnsupported,
        ErrorCode::MalformedBody,
        ErrorCode::BodyTooLarge,
        ErrorCode::TooManyChanges,
        ErrorCode::UnsupportedEncoding,
        ErrorCode::Unauthorized,
        ErrorCode::SessionExpired,
        ErrorCode::LoginFailed,
        ErrorCode::DeviceRevoked,
        ErrorCode::UserDisabled,
        ErrorCode::Forbidden,
        ErrorCode::EnrolCodeInvalid,
        ErrorCode::EnrolCodeExpired,
        ErrorCode::RateLimited,
        ErrorCode::NotFound,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];
    for code in codes {
        let wire = serde_json::to_value(code).unwrap();
        let row = format!("| `{}` | {} |", wire.as_str().unwrap(), code.http_status());
        assert!(SPEC.contains(&row), "the spec's error table lacks {row}");
    }
    let rejects = [
        RejectCode::InvalidEnvelope,
        RejectCode::InvalidBody,
        RejectCode::InvalidValue,
        RejectCode::UnsupportedSchema,
        RejectCode::OutOfScope,
        RejectCode::ForbiddenRole,
        RejectCode::IdentityMismatch,
        RejectCode::KindMismatch,
        RejectCode::SeqReused,
        RejectCode::FactImmutable,
        RejectCode::ClockAhead,
        RejectCode::AwaitsAuthor,
        RejectCode::TooLarge,
    ];
    for code in rejects {
        let wire = serde_json::to_value(code).unwrap();
        let final_ = if code.is_final() { "yes" } else { "**no**" };
        let row = format!("| `{}` | {final_} |", wire.as_str().unwrap());
        assert!(
            SPEC.contains(&row),
            "the spec's rejection table lacks {row}"
        );
    }
    for kind in EntityKind::ALL {
        let class = match kind.class() {
            Class::Fact => "fact",
            Class::Mutable => "mutable",
        };
        let prefix = format!("| `{kind}` | {class} |");
        let row = SPEC.lines().find(|l| l.starts_with(&prefix));
        let row = row.unwrap_or_else(|| panic!("the spec's entity table lacks {prefix}"));
        for field in sync_protocol::schema::fields(kind) {
            let shown = if field.required {
                format!("**{}**", field.name)
            } else {
                format!(" {}", field.name)
            };
            assert!(
                row.contains(&shown),
                "the spec's row for {kind} does not show field {shown:?}"
            );
        }
    }
}
