//! Every key field-core can send to the app has a text in both of the UI's languages, and
//! each text needs only the parameters Rust sends with the key (plus `field`, the form
//! field's label the UI fills). The UI renders errors from its translation files only.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn ui_texts(lang: &str) -> BTreeMap<String, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/i18n");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let ours = name == format!("{lang}.json") || name.ends_with(&format!(".{lang}.json"));
        if !ours {
            continue;
        }
        let map: BTreeMap<String, String> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.extend(map);
    }
    assert!(out.len() > 100, "{lang}: {} texts", out.len());
    out
}

fn placeholders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        let Some(j) = rest.find('}') else { break };
        let name = &rest[..j];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.insert(name.to_string());
        }
        rest = &rest[j + 1..];
    }
    out
}

#[test]
fn every_key_rust_sends_has_a_text_in_both_languages() {
    let langs = [("id", ui_texts("id")), ("en", ui_texts("en"))];
    let mut missing = Vec::new();
    let mut extra_params = Vec::new();
    let keys = field_core::messages::catalog()
        .into_iter()
        .chain(field_core::messages::ERROR_TEXTS.iter().copied());
    for (key, id, en) in keys {
        // What Rust fills: the placeholders of its own sentences, and the values the UI words
        // itself from a parameter Rust sends (the measure's name from `type`, the age from
        // `age_months`).
        let mut rust: BTreeSet<String> =
            placeholders(id).union(&placeholders(en)).cloned().collect();
        if key == "validation.implausible_for_age" {
            rust.extend(["type".to_string(), "age".to_string()]);
        }
        for (lang, texts) in &langs {
            match texts.get(key) {
                None => missing.push(format!("{lang}: {key}")),
                Some(text) => {
                    for p in placeholders(text) {
                        if p != "field" && !rust.contains(&p) {
                            extra_params.push(format!("{lang}: {key} needs {{{p}}}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys without a UI text:\n{}",
        missing.join("\n")
    );
    assert!(
        extra_params.is_empty(),
        "UI texts needing a parameter Rust does not send:\n{}",
        extra_params.join("\n")
    );
}

/// Every problem health-rules can report (a record it could not use) has a text in both
/// languages, and each text needs only the parameters the problem carries.
#[test]
fn every_health_problem_key_has_a_text_in_both_languages() {
    let langs = [("id", ui_texts("id")), ("en", ui_texts("en"))];
    let mut missing = Vec::new();
    let mut extra_params = Vec::new();
    let problems = health_rules::problems::problem_keys();
    assert!(problems.len() > 20, "{} problem keys", problems.len());
    for (key, params) in &problems {
        for (lang, texts) in &langs {
            match texts.get(*key) {
                None => missing.push(format!("{lang}: {key}")),
                Some(text) => {
                    for p in placeholders(text) {
                        if !params.contains(&p.as_str()) {
                            extra_params.push(format!("{lang}: {key} needs {{{p}}}"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "problem keys without a UI text:\n{}",
        missing.join("\n")
    );
    assert!(
        extra_params.is_empty(),
        "UI texts needing a parameter the problem does not carry:\n{}",
        extra_params.join("\n")
    );
}
