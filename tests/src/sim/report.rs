//! The figures a scenario measured: rows of (measure, value, unit, target), printed as a
//! Markdown table or as JSON.

use serde::Serialize;
use std::time::Duration;

/// A target a figure is held against.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
}

impl Target {
    fn met(self, v: f64) -> bool {
        match self {
            Target::AtMost(t) => v <= t,
            Target::AtLeast(t) => v >= t,
        }
    }
}

/// One measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub measure: String,
    pub value: f64,
    pub unit: String,
    pub target: Option<Target>,
    /// `Some(true)` when a target exists and was met.
    pub met: Option<bool>,
}

/// The rows of one scenario, with free-form notes (mix, counts, settings).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn add(&mut self, scenario: &str, measure: &str, value: f64, unit: &str) {
        self.push(scenario, measure, value, unit, None);
    }

    pub fn check(&mut self, scenario: &str, measure: &str, value: f64, unit: &str, t: Target) {
        self.push(scenario, measure, value, unit, Some(t));
    }

    pub fn secs(&mut self, scenario: &str, measure: &str, d: Duration, t: Option<Target>) {
        self.push(scenario, measure, d.as_secs_f64(), "s", t);
    }

    fn push(&mut self, scenario: &str, measure: &str, value: f64, unit: &str, t: Option<Target>) {
        self.rows.push(Row {
            scenario: scenario.into(),
            measure: measure.into(),
            value,
            unit: unit.into(),
            target: t,
            met: t.map(|t| t.met(value)),
        });
    }

    pub fn note(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("  {s}");
        self.notes.push(s);
    }

    pub fn extend(&mut self, other: Report) {
        self.rows.extend(other.rows);
        self.notes.extend(other.notes);
    }

    /// A Markdown table of the rows.
    pub fn table(&self) -> String {
        let mut out =
            String::from("| scenario | measure | figure | target | met |\n|---|---|---|---|---|\n");
        for r in &self.rows {
            let target = match r.target {
                Some(Target::AtMost(t)) => format!("≤ {}", fmt(t)),
                Some(Target::AtLeast(t)) => format!("≥ {}", fmt(t)),
                None => "—".into(),
            };
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            out.push_str(&format!(
                "| {} | {} | {} {} | {} | {} |\n",
                r.scenario,
                r.measure,
                fmt(r.value),
                r.unit,
                target,
                met
            ));
        }
        out
    }
}

/// A figure with sensible precision.
fn fmt(v: f64) -> String {
    if (v == v.trunc() && v.abs() < 1e15) || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The `p`-quantile (0..=1) of durations (sorted here).
pub fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx.min(v.len() - 1)]
}
