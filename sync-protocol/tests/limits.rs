//! The size limits of one change (issue #12 items 1 and 6): every string and list of a body
//! is bounded, the whole change is bounded, `seq` stays in the spec's integer range; each is
//! refused per change with a code, a message key and a field.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};
use sync_protocol::schema::{
    MAX_ANSWER_ITEM_CHARS, MAX_ANSWER_KEY_CHARS, MAX_ANSWER_LIST, MAX_ANSWER_TEXT_CHARS,
    MAX_CHANGE_BYTES, MAX_SEQ, fields, json_size, validate,
};
use sync_protocol::{Change, EntityKind, RejectCode, Stamp};

const TODAY: &str = "2025-11-23";
const MAWAR: &str = "53.04.05.2001.P01";

fn fact(kind: EntityKind, body: Value) -> Change {
    let mut c = edit(rid(1), kind, 1, 1, 10, &[], &[]);
    c.body = body.as_object().cloned().unwrap();
    c
}

fn screening(answers: Value) -> Change {
    fact(
        EntityKind::Screening,
        json!({"posyandu": MAWAR, "person": rid(2).to_string(), "instrument": "tb",
               "date": "2025-11-20", "answers": answers}),
    )
}

fn code_of(c: &Change) -> Option<(RejectCode, String)> {
    validate(c, true, TODAY)
        .err()
        .map(|r| (r.code, r.field.unwrap_or_default()))
}

#[test]
fn answers_are_bounded_in_every_string_and_list() {
    let ok = screening(
        json!({"cough_2w": true, "note": "x".repeat(MAX_ANSWER_TEXT_CHARS),
        "signs": vec!["y".repeat(MAX_ANSWER_ITEM_CHARS); MAX_ANSWER_LIST]}),
    );
    assert_eq!(validate(&ok, true, TODAY), Ok(()));
    let bad = [
        json!({"note": "x".repeat(MAX_ANSWER_TEXT_CHARS + 1)}),
        // The reported attack: one 9 MiB answer.
        json!({"note": "a".repeat(9 << 20)}),
        json!({"k".repeat(MAX_ANSWER_KEY_CHARS + 1): true}),
        json!({"": true}),
        json!({"signs": vec![json!(1); MAX_ANSWER_LIST + 1]}),
        json!({"signs": ["z".repeat(MAX_ANSWER_ITEM_CHARS + 1)]}),
    ];
    for answers in bad {
        let c = screening(answers);
        let (code, field) = code_of(&c).expect("refused");
        assert!(
            matches!(code, RejectCode::InvalidValue | RejectCode::TooLarge),
            "{code:?}"
        );
        assert!(field == "answers" || field == "body", "{field}");
        // The answer names the limit, never echoes the whole value.
        let r = validate(&c, true, TODAY).unwrap_err();
        assert!(r.message.len() < 400, "{}", r.message.len());
        assert_eq!(r.key, r.code.message_key());
    }
}

#[test]
fn every_text_field_of_every_kind_has_a_length_limit() {
    use sync_protocol::schema::FieldType;
    for kind in EntityKind::ALL {
        for f in fields(kind) {
            let bounded = match f.ty {
                FieldType::Text { max } => max <= 2_000,
                FieldType::Answers { max_keys } => max_keys <= 64,
                FieldType::Digits { len } => len <= 16,
                _ => true, // codes, refs, dates, numbers: fixed forms
            };
            assert!(bounded, "{kind}.{}", f.name);
        }
    }
    // A note of 2,001 characters is refused as a value out of range, per field.
    let c = fact(
        EntityKind::Note,
        json!({"posyandu": MAWAR, "text": "n".repeat(2_001)}),
    );
    assert_eq!(
        code_of(&c),
        Some((RejectCode::InvalidValue, "text".to_string()))
    );
}

#[test]
fn the_whole_change_is_bounded() {
    // Within every field limit, yet over the limit of one change: 64 answers of 500
    // characters that JSON writes as six bytes each.
    let mut answers = serde_json::Map::new();
    for i in 0..64 {
        answers.insert(
            format!("q{i}"),
            json!("\u{1}".repeat(MAX_ANSWER_TEXT_CHARS)),
        );
    }
    let c = screening(Value::Object(answers));
    assert!(json_size(&c) > MAX_CHANGE_BYTES);
    let r = validate(&c, true, TODAY).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(r.key, "sync.reject.too_large");
    assert_eq!(r.field.as_deref(), Some("body"));
    // The largest legitimate change fits: a visit with its three long texts full of
    // four-byte characters.
    let visit = fact(
        EntityKind::Visit,
        json!({"posyandu": MAWAR, "person": rid(2).to_string(), "type": "home",
               "findings": "😀".repeat(2_000), "education": "😀".repeat(2_000),
               "counselling": "😀".repeat(2_000)}),
    );
    assert_eq!(validate(&visit, true, TODAY), Ok(()));
    assert!(json_size(&visit) < MAX_CHANGE_BYTES);
}

#[test]
fn unknown_field_names_and_bases_are_bounded() {
    let mut c = fact(
        EntityKind::Note,
        json!({"posyandu": MAWAR, "text": "catatan"}),
    );
    c.body.insert("f".repeat(100_000), json!(1));
    let r = validate(&c, true, TODAY).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge, "over the size of one change");
    c.body.retain(|k, _| k.len() < 100);
    c.body.insert("f".repeat(1_000), json!(1));
    let r = validate(&c, true, TODAY).unwrap_err();
    assert_eq!(r.code, RejectCode::InvalidBody);
    assert!(r.field.unwrap().len() <= 64 && r.message.len() < 200);
    // A tombstone's base of 65 fields, or with a name of 65 bytes, is refused.
    let mut t = edit(rid(3), EntityKind::Person, 1, 2, 50, &[], &[]);
    t.tombstone = true;
    t.body.clear();
    for i in 0..65 {
        t.base.insert(
            format!("f{i}"),
            Stamp {
                hlc: hlc(1),
                device: dev(1),
            },
        );
    }
    assert_eq!(
        code_of(&t),
        Some((RejectCode::InvalidEnvelope, "base".to_string()))
    );
    t.base.clear();
    t.base.insert(
        "g".repeat(65),
        Stamp {
            hlc: hlc(1),
            device: dev(1),
        },
    );
    assert_eq!(
        code_of(&t),
        Some((RejectCode::InvalidEnvelope, "base".to_string()))
    );
}

#[test]
fn seq_above_2_pow_53_is_refused_per_change() {
    for (seq, ok) in [
        (MAX_SEQ, true),
        (MAX_SEQ + 1, false),
        (i64::MAX as u64, false),
        (1u64 << 63, false),
        (u64::MAX, false),
    ] {
        let mut c = fact(
            EntityKind::Note,
            json!({"posyandu": MAWAR, "text": "catatan"}),
        );
        c.seq = seq;
        let got = code_of(&c);
        if ok {
            assert_eq!(got, None, "{seq}");
        } else {
            assert_eq!(
                got,
                Some((RejectCode::InvalidEnvelope, "seq".to_string())),
                "{seq}"
            );
        }
    }
}
