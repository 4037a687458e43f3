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
            "duplicates-response" => {
                let d: sync_protocol::DuplicatesResponse = round_trip(name, json);
                for p in &d.pairs {
                    assert!(p.first.to_string() < p.second.to_string(), "{name}");
                }
            }
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
            // Checked together below (titip_examples_are_what_the_crate_seals).
            "titip-keys" | "titip-header" => {}
            "titip-bundle" => {
                let b: relay::RelayBundle = round_trip(name, json);
                for c in &b.changes {
                    check_change(name, c, true);
                }
            }
            "titip-answer" => drop(round_trip::<relay::RelayAnswer>(name, json)),
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
        ErrorCode::TitipRefused,
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

fn example(name: &str) -> String {
    examples()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, j)| j)
        .unwrap_or_else(|| panic!("the spec has no {name} example"))
}

/// Section 10: the keys shown are the test keys' public halves, and sealing the bundle
/// example with them (created 1763800000000, ephemeral secret 32 × 0x09) gives exactly the
/// header shown; the sealed file opens with the server's key and to the same bundle, not with
/// another key, and not once any byte is changed.
#[test]
fn titip_examples_are_what_the_crate_seals() {
    use sync_protocol::relay::{self, KeyPair, PublicKeys, RelayBundle, SealedHeader};
    let server = KeyPair::from_bytes(&[1; 64]);
    let tablet = KeyPair::from_bytes(&[2; 64]);
    let shown: PublicKeys = serde_json::from_str(&example("titip-keys")).unwrap();
    assert_eq!(
        shown,
        server.public(),
        "titip-keys is the server's test public key"
    );
    let bundle: RelayBundle = serde_json::from_str(&example("titip-bundle")).unwrap();
    let sealed = relay::seal_bundle(
        &bundle,
        1_763_800_000_000,
        &server.public(),
        &tablet,
        [9; 32],
    )
    .unwrap();
    let header: SealedHeader = serde_json::from_str(&example("titip-header")).unwrap();
    let parsed = relay::parse(&sealed).unwrap();
    // The example header shows two changes (41, 42); the bundle example carries one (42).
    assert_eq!(
        parsed.header.eph, header.eph,
        "the header's eph is 32 x 0x09's public key"
    );
    assert_eq!(parsed.header.device, header.device);
    assert_eq!(parsed.header.created, header.created);
    assert_eq!(&sealed[..4], b"JKTP");
    assert_eq!((sealed[4], sealed[5]), (1, 1));
    let header_len = usize::from(u16::from_be_bytes([sealed[6], sealed[7]]));
    assert_eq!(
        serde_json::from_slice::<SealedHeader>(&sealed[8..8 + header_len]).unwrap(),
        parsed.header
    );
    let limits = Limits::default();
    let (_, opened) = relay::open_bundle(&sealed, &tablet.public(), &server, &limits).unwrap();
    assert_eq!(opened, bundle);
    let stranger = KeyPair::from_bytes(&[3; 64]);
    assert!(
        relay::parse(&sealed)
            .unwrap()
            .decrypt(&stranger, &limits)
            .is_err()
    );
    let mut altered = sealed.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 1;
    assert!(relay::open_bundle(&altered, &tablet.public(), &server, &limits).is_err());
    // Sealing is deterministic given the ephemeral secret (the spec's examples reproduce).
    let again = relay::seal_bundle(
        &bundle,
        1_763_800_000_000,
        &server.public(),
        &tablet,
        [9; 32],
    )
    .unwrap();
    assert_eq!(again, sealed);
}
