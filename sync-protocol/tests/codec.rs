//! The codec: round trips in every encoding, and every kind of bad input gives a typed error.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use sync_protocol::codec::{compress, decode_json, decompress};
use sync_protocol::{
    CodecError, Encoding, ErrorBody, ErrorCode, Limits, Outcome, PROTOCOL_VERSION, PullResponse,
    PushRequest, PushResponse, RejectCode, Rejection, StatusRequest, decode, encode,
};

fn batch(n: u64) -> PushRequest {
    let person = rid(500);
    let visit = rid(501);
    PushRequest {
        v: PROTOCOL_VERSION,
        changes: (1..=n)
            .map(|i| weighing(i, person, visit, i, 8.0 + i as f64 / 100.0))
            .collect(),
    }
}

const ENCODINGS: [Encoding; 3] = [Encoding::Identity, Encoding::Zstd, Encoding::Gzip];

#[test]
fn every_message_round_trips_in_every_encoding() {
    let push = batch(50);
    let response = PushResponse {
        v: PROTOCOL_VERSION,
        outcomes: vec![
            Outcome::accepted(1),
            Outcome::duplicate(2),
            Outcome::rejected(
                3,
                Rejection::new(
                    RejectCode::OutOfScope,
                    "person is in another posyandu",
                    Some("person"),
                ),
            ),
        ],
        acked_seq: 3,
        server_time: T0,
    };
    let pull = PullResponse {
        v: PROTOCOL_VERSION,
        changes: push.changes.clone(),
        cursor: "c42".into(),
        has_more: true,
        server_time: T0,
    };
    let status = StatusRequest {
        v: PROTOCOL_VERSION,
        last_seq: 9,
        cursor: None,
        app_version: "0.1.0".into(),
    };
    let error = ErrorBody::new(ErrorCode::DeviceRevoked, "This tablet was revoked.");
    let limits = Limits::default();
    for enc in ENCODINGS {
        assert_eq!(
            decode::<PushRequest>(&encode(&push, enc).unwrap(), enc, &limits).unwrap(),
            push
        );
        assert_eq!(
            decode::<PushResponse>(&encode(&response, enc).unwrap(), enc, &limits).unwrap(),
            response
        );
        assert_eq!(
            decode::<PullResponse>(&encode(&pull, enc).unwrap(), enc, &limits).unwrap(),
            pull
        );
        assert_eq!(
            decode::<StatusRequest>(&encode(&status, enc).unwrap(), enc, &limits).unwrap(),
            status
        );
        assert_eq!(
            decode::<ErrorBody>(&encode(&error, enc).unwrap(), enc, &limits).unwrap(),
            error
        );
    }
}

#[test]
fn compact_json_has_no_whitespace_and_omits_empty_fields() {
    let json = String::from_utf8(encode(&batch(1), Encoding::Identity).unwrap()).unwrap();
    assert!(!json.contains(' ') && !json.contains('\n'), "{json}");
    assert!(
        !json.contains("tombstone") && !json.contains("base") && !json.contains("supersedes"),
        "{json}"
    );
}

#[test]
fn truncated_or_corrupt_bodies_are_typed_errors() {
    let limits = Limits::default();
    for enc in [Encoding::Zstd, Encoding::Gzip] {
        let bytes = encode(&batch(20), enc).unwrap();
        for cut in [1, 5, bytes.len() / 2, bytes.len() - 1] {
            let err = decode::<PushRequest>(&bytes[..cut], enc, &limits).unwrap_err();
            assert!(
                matches!(err, CodecError::Corrupt(_) | CodecError::Malformed(_)),
                "{enc:?} cut {cut}: {err}"
            );
        }
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        assert!(decode::<PushRequest>(&flipped, enc, &limits).is_err());
        assert!(decode::<PushRequest>(&[], enc, &limits).is_err());
    }
    let json = encode(&batch(2), Encoding::Identity).unwrap();
    let err =
        decode::<PushRequest>(&json[..json.len() - 3], Encoding::Identity, &limits).unwrap_err();
    assert!(matches!(err, CodecError::Malformed(_)));
    assert_eq!(err.error_code(), ErrorCode::MalformedBody);
}

#[test]
fn decompression_bombs_stop_at_the_limit() {
    // 64 MiB of zeros compress to a few kilobytes.
    let zeros = vec![b' '; 64 * 1024 * 1024];
    let limits = Limits::default();
    for enc in [Encoding::Zstd, Encoding::Gzip] {
        let bomb = compress(&zeros, enc).unwrap();
        assert!(
            bomb.len() < limits.max_compressed,
            "{enc:?} bomb is {} bytes",
            bomb.len()
        );
        let err = decompress(&bomb, enc, &limits).unwrap_err();
        assert!(
            matches!(err, CodecError::DecompressedTooLarge { .. }),
            "{err}"
        );
        assert_eq!(err.error_code(), ErrorCode::BodyTooLarge);
    }
    let big = vec![b'x'; limits.max_decompressed + 1];
    assert!(matches!(
        decompress(
            &big,
            Encoding::Identity,
            &Limits {
                max_compressed: usize::MAX,
                ..limits
            }
        ),
        Err(CodecError::DecompressedTooLarge { .. })
    ));
}

#[test]
fn size_and_batch_limits() {
    let tight = Limits {
        max_compressed: 100,
        max_decompressed: 1 << 20,
        max_batch: 10,
    };
    let bytes = encode(&batch(20), Encoding::Zstd).unwrap();
    assert!(matches!(
        decode::<PushRequest>(&bytes, Encoding::Zstd, &tight),
        Err(CodecError::CompressedTooLarge { limit: 100, .. })
    ));
    let roomy = Limits {
        max_compressed: 1 << 20,
        ..tight
    };
    let err = decode::<PushRequest>(&bytes, Encoding::Zstd, &roomy).unwrap_err();
    assert!(matches!(
        err,
        CodecError::BatchTooLong { len: 20, limit: 10 }
    ));
    assert_eq!(err.error_code(), ErrorCode::TooManyChanges);
}

#[test]
fn another_protocol_version_is_refused_not_misread() {
    let limits = Limits::default();
    let next = PROTOCOL_VERSION + 1;
    // A future body that still parses as today's shape.
    let same_shape = json!({"v": next, "last_seq": 1, "app_version": "9.0"}).to_string();
    // A future body with a new field.
    let new_field =
        json!({"v": next, "last_seq": 1, "app_version": "9.0", "shards": [1]}).to_string();
    // An old body missing today's required field.
    let old_shape = json!({"v": 0, "seq": 1}).to_string();
    for body in [same_shape, new_field, old_shape] {
        let err = decode_json::<StatusRequest>(body.as_bytes(), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::VersionMismatch {
                    expected: PROTOCOL_VERSION,
                    ..
                }
            ),
            "{body}: {err}"
        );
        assert_eq!(err.error_code(), ErrorCode::ProtocolUnsupported);
    }
}

#[test]
fn wrong_types_unknown_fields_and_unknown_kinds_are_malformed() {
    let limits = Limits::default();
    let good = serde_json::to_value(batch(1)).unwrap();
    let mut bad_bodies = Vec::new();
    let mut v = good.clone();
    v["changes"][0]["seq"] = json!("one");
    bad_bodies.push(v);
    let mut v = good.clone();
    v["changes"][0]["kind"] = json!("spaceship");
    bad_bodies.push(v);
    let mut v = good.clone();
    v["changes"][0]["hlc"] = json!("not-a-stamp");
    bad_bodies.push(v);
    let mut v = good.clone();
    v["changes"][0]["id"] = json!("1234");
    bad_bodies.push(v);
    let mut v = good.clone();
    v["changes"][0]["colour"] = json!("red");
    bad_bodies.push(v);
    let mut v = good.clone();
    v["changes"][0]["seq"] = json!(-1);
    bad_bodies.push(v);
    let mut v = good;
    v["changes"] = json!({});
    bad_bodies.push(v);
    for body in bad_bodies {
        let bytes = serde_json::to_vec(&body).unwrap();
        let err = decode_json::<PushRequest>(&bytes, &limits).unwrap_err();
        assert!(matches!(err, CodecError::Malformed(_)), "{body}: {err}");
    }
}

#[test]
fn content_encoding_headers() {
    assert_eq!(Encoding::from_header(None).unwrap(), Encoding::Identity);
    assert_eq!(
        Encoding::from_header(Some(" ZSTD ")).unwrap(),
        Encoding::Zstd
    );
    assert_eq!(Encoding::from_header(Some("gzip")).unwrap(), Encoding::Gzip);
    assert!(matches!(
        Encoding::from_header(Some("br")),
        Err(CodecError::UnsupportedEncoding(_))
    ));
    let cases = [
        (None, Encoding::Identity),
        (Some("gzip, deflate, br"), Encoding::Gzip),
        (Some("gzip, zstd"), Encoding::Zstd),
        (Some("zstd;q=0, gzip"), Encoding::Gzip),
        (Some("zstd;q=0.1, gzip"), Encoding::Gzip),
        (Some("gzip;q=0.5, zstd;q=0.5"), Encoding::Zstd),
        (Some("gzip;q=0, zstd;q=0"), Encoding::Identity),
        (Some("zstd;q=2"), Encoding::Identity),
        (Some("identity"), Encoding::Identity),
    ];
    for (accept, want) in cases {
        assert_eq!(Encoding::negotiate_accept(accept), want, "{accept:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic the decoder, in any encoding.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let limits = Limits { max_decompressed: 1 << 20, ..Limits::default() };
        for enc in ENCODINGS {
            let _ = decode::<PushRequest>(&bytes, enc, &limits);
            let _ = decode::<PullResponse>(&bytes, enc, &limits);
        }
    }

    /// Mutating a valid compressed body never panics either.
    #[test]
    fn mutated_bodies_never_panic(pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let limits = Limits::default();
        for enc in ENCODINGS {
            let mut bytes = encode(&batch(5), enc).unwrap();
            let p = pos % bytes.len();
            bytes[p] = byte;
            let c = cut % (bytes.len() + 1);
            let _ = decode::<PushRequest>(&bytes[..c], enc, &limits);
        }
    }
}

#[test]
fn gzip_with_trailing_bytes_is_refused() {
    let mut bytes = encode(&batch(3), Encoding::Gzip).unwrap();
    bytes.extend_from_slice(b"garbage");
    let err = decode::<PushRequest>(&bytes, Encoding::Gzip, &Limits::default()).unwrap_err();
    assert!(matches!(err, CodecError::Corrupt(_)), "{err}");
}

#[test]
fn zstd_frames_asking_for_a_huge_window_are_refused() {
    use std::io::Write;
    let json = encode(&batch(3), Encoding::Identity).unwrap();
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.window_log(27).unwrap();
    enc.long_distance_matching(true).unwrap();
    enc.write_all(&json).unwrap();
    let bytes = enc.finish().unwrap();
    // A frame with a 128 MiB window: refused before any memory is reserved for it, as a
    // body that would be too large once decompressed (413).
    let err = decode::<PushRequest>(&bytes, Encoding::Zstd, &Limits::default());
    assert!(
        matches!(err, Err(CodecError::DecompressedTooLarge { .. })),
        "{err:?}"
    );
    // A small request's limits allow a window no larger than its body.
    assert_eq!(sync_protocol::codec::window_log_for(8 * 1024), 13);
    assert_eq!(sync_protocol::codec::window_log_for(16 << 20), 23);
    assert_eq!(sync_protocol::codec::window_log_for(1), 10);
}

#[test]
fn version_errors_say_who_must_update() {
    let limits = Limits::default();
    let next = (PROTOCOL_VERSION + 1).to_string();
    let next_text = format!("\"{next}\"");
    for (v, key) in [
        ("0", "sync.update_app"),
        (next.as_str(), "sync.update_server"),
        ("70000", "sync.update_server"),
        (next_text.as_str(), "sync.update_server"),
    ] {
        let body = format!(r#"{{"v":{v},"last_seq":1,"app_version":"9"}}"#);
        let err = decode_json::<StatusRequest>(body.as_bytes(), &limits).unwrap_err();
        let version = err
            .version_error()
            .unwrap_or_else(|| panic!("{body}: {err}"));
        assert_eq!(version.message_key(), key, "{body}");
    }
}

#[test]
fn an_error_body_of_any_version_can_be_read() {
    use sync_protocol::codec::decode_error_body;
    let future = json!({"v": 3, "code": "protocol_unsupported", "key": "sync.update_app", "message": "Update", "supported": {"min": 3, "max": 4}, "docs": "https://..."});
    let bytes = serde_json::to_vec(&future).unwrap();
    let body = decode_error_body(&bytes, Encoding::Identity, &Limits::default()).unwrap();
    assert_eq!(body.code, ErrorCode::ProtocolUnsupported);
    assert_eq!(body.supported.map(|s| s.min), Some(3));
    let unknown = json!({"v": 3, "code": "quota_exceeded", "message": "later"});
    let body = decode_error_body(
        &serde_json::to_vec(&unknown).unwrap(),
        Encoding::Identity,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(body.code, ErrorCode::Unknown);
    assert!(decode_error_body(b"not json", Encoding::Identity, &Limits::default()).is_none());
}

#[test]
fn the_same_change_written_with_other_numbers_is_a_duplicate() {
    use sync_protocol::{Applied, Replica};
    let a = batch(1).changes.remove(0);
    let mut text = serde_json::to_string(&a).unwrap();
    // Re-spell the weight the way another client's JSON library might.
    let weight = a.body["value"].as_f64().unwrap();
    assert!(text.contains(&format!("\"value\":{weight}")));
    let mut b = a.clone();
    b.body.insert("value".into(), json!(weight));
    let whole = json!(100.0);
    b.body.insert("count".into(), whole);
    let mut a2 = a.clone();
    a2.body.insert("count".into(), json!(100));
    text = serde_json::to_string(&b).unwrap();
    let b: sync_protocol::Change = serde_json::from_str(&text).unwrap();
    assert!(a2.same_content(&b));
    assert_eq!(a2.canonical_json(), b.canonical_json());
    let mut r = Replica::new();
    assert_eq!(r.apply(&a2).unwrap(), Applied::New);
    assert_eq!(r.apply(&b).unwrap(), Applied::Duplicate);
}

/// zstd bodies, one after another on one thread: the same bytes as zstd's own one-shot
/// compression, and a body that fails to decode (cut short, a bomb, too large a window, a
/// frame that does not state its size) never spoils the next. (Written when the codec kept
/// zstd's contexts per thread, issue 13's fourteenth pass; not kept: a fresh tablet's peak
/// memory rose 3–4 MiB.)
#[test]
fn zstd_bodies_one_after_another_are_independent() {
    // The same bytes as zstd's own, body after body, small and large, on one thread.
    let large = vec![b'a'; 6 * 1024 * 1024];
    for body in [
        encode(&batch(3), Encoding::Identity).unwrap(),
        encode(&batch(300), Encoding::Identity).unwrap(),
        large,
        encode(&batch(1), Encoding::Identity).unwrap(),
    ] {
        assert_eq!(
            compress(&body, Encoding::Zstd).unwrap(),
            zstd::bulk::compress(&body, sync_protocol::codec::ZSTD_LEVEL).unwrap()
        );
    }
    // A body cut short, a bomb stopped at the limit and a frame asking for too large a window
    // leave the next body decodable.
    let limits = Limits::default();
    let good = encode(&batch(20), Encoding::Zstd).unwrap();
    let bomb = compress(&vec![b' '; 64 * 1024 * 1024], Encoding::Zstd).unwrap();
    let small = Limits {
        max_decompressed: 4096,
        ..limits
    };
    let failing: [(&[u8], &Limits); 3] = [
        (&good[..good.len() / 2], &limits),
        (&bomb, &limits),
        (&good, &small),
    ];
    for (bad, with) in failing {
        assert!(decompress(bad, Encoding::Zstd, with).is_err());
        let back = decode::<PushRequest>(&good, Encoding::Zstd, &limits).unwrap();
        assert_eq!(back, batch(20));
    }
    // Frames that do not state their size (a streaming client's) pass the size check before
    // the decoder: only the decoder stops them. A strict limit after a loose one still holds,
    // a bomb is stopped at the limit, and the next body decodes.
    let unsized_frame = |body: &[u8]| {
        use std::io::Write;
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(false).unwrap();
        enc.write_all(body).unwrap();
        enc.finish().unwrap()
    };
    let wide = unsized_frame(&vec![b'x'; 256 * 1024]);
    assert_eq!(
        decompress(&wide, Encoding::Zstd, &limits).unwrap().len(),
        256 * 1024
    );
    assert!(decompress(&wide, Encoding::Zstd, &small).is_err());
    let unsized_bomb = unsized_frame(&vec![b' '; limits.max_decompressed + 1]);
    assert!(matches!(
        decompress(&unsized_bomb, Encoding::Zstd, &limits),
        Err(CodecError::DecompressedTooLarge { .. })
    ));
    assert_eq!(
        decompress(&wide, Encoding::Zstd, &limits).unwrap().len(),
        256 * 1024
    );
    let back = decode::<PushRequest>(&good, Encoding::Zstd, &limits).unwrap();
    assert_eq!(back, batch(20));
}
