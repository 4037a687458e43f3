//! `fhir-check DIR`: parses every FHIR resource under DIR with fhirbolt's strict R4 model
//! (unknown elements, wrong types and malformed primitives are errors) and exits non-zero
//! if one does not parse, or if a resource type the export must produce is missing.
//!
//! Files: `*.json` hold one resource (a Bundle counts as one and each entry's resource is
//! checked as well); `*.ndjson` hold one resource per line.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Resource types the export of the demo history must contain.
const REQUIRED: [&str; 6] = [
    "Bundle",
    "Patient",
    "Encounter",
    "Observation",
    "Immunization",
    "Organization",
];

#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("{0}: not JSON: {1}")]
    Json(String, serde_json::Error),
    #[error("{0}: not FHIR R4 {1}: {2}")]
    NotR4(String, String, String),
}

fn check(origin: &str, v: &Value, counts: &mut BTreeMap<String, usize>) -> Result<(), CheckError> {
    let kind = v["resourceType"].as_str().unwrap_or("?").to_string();
    let text = serde_json::to_string(v).map_err(|e| CheckError::Json(origin.into(), e))?;
    let parsed: Result<fhirbolt::model::r4::Resource, _> = fhirbolt::json::from_str(&text, None);
    if let Err(e) = parsed {
        return Err(CheckError::NotR4(origin.into(), kind, e.to_string()));
    }
    *counts.entry(kind).or_default() += 1;
    if let Some(entries) = v["entry"].as_array() {
        for (i, e) in entries.iter().enumerate() {
            if e["resource"].is_object() {
                check(&format!("{origin} entry {i}"), &e["resource"], counts)?;
            }
        }
    }
    Ok(())
}

fn files(dir: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let mut out = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| CheckError::Io(dir.into(), e))?;
    for entry in rd {
        let path = entry.map_err(|e| CheckError::Io(dir.into(), e))?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else if matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("json" | "ndjson")
        ) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn run(dir: &Path) -> Result<BTreeMap<String, usize>, Vec<CheckError>> {
    let mut counts = BTreeMap::new();
    let mut errors = Vec::new();
    for path in files(dir).map_err(|e| vec![e])? {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(CheckError::Io(path, e));
                continue;
            }
        };
        let name = path.display().to_string();
        let ndjson = path.extension().is_some_and(|x| x == "ndjson");
        let docs: Vec<(String, &str)> = if ndjson {
            text.lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| (format!("{name}:{}", i + 1), l))
                .collect()
        } else {
            vec![(name.clone(), text.as_str())]
        };
        for (origin, doc) in docs {
            let result = serde_json::from_str::<Value>(doc)
                .map_err(|e| CheckError::Json(origin.clone(), e))
                .and_then(|v| check(&origin, &v, &mut counts));
            if let Err(e) = result {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(counts)
    } else {
        Err(errors)
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fhir-check DIR");
        return ExitCode::from(2);
    };
    match run(&dir) {
        Ok(counts) => {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|k| !counts.contains_key(*k))
                .collect();
            for (k, n) in &counts {
                println!("{k}: {n} parsed as FHIR R4");
            }
            if missing.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "fhir-check: no {} under {}",
                    missing.join(", "),
                    dir.display()
                );
                ExitCode::FAILURE
            }
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("fhir-check: {} resources are not FHIR R4", errors.len());
            ExitCode::FAILURE
        }
    }
}
