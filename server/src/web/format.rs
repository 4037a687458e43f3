//! Indonesian formatting: decimal comma, `.` between thousands, dates as dd/mm/yyyy, times
//! in the district's zone (WITA, UTC+8, as `readmodel::reports::today`).

use chrono::{DateTime, FixedOffset, NaiveDate};
use health_rules::kms::{MONTH_NAMES_EN, MONTH_NAMES_ID};

/// Belu's zone, WITA.
const WITA_SECS: i32 = 8 * 3600;

/// A whole number with `.` between thousands: `12.345`.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A number with `places` decimals and a decimal comma: `12,5`, `1.234,50`.
pub fn dec(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let s = format!("{:.*}", places, x.abs());
    let (whole, frac) = s.split_once('.').unwrap_or((s.as_str(), ""));
    let whole: i64 = whole.parse().unwrap_or(0);
    let mut out = int(whole);
    // -0,0 reads as 0,0.
    if x < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.insert(0, '-');
    }
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// A share as a percentage with one decimal: `Some(0.4567)` → `45,7%`; `None` → `–`.
pub fn pct(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{}%", dec(r * 100.0, 1)),
        None => "–".into(),
    }
}

/// `YYYY-MM-DD` → `dd/mm/yyyy` (anything else as given).
pub fn date(iso: &str) -> String {
    match NaiveDate::parse_from_str(iso.get(..10).unwrap_or(iso), "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

/// Milliseconds since the epoch → `dd/mm/yyyy HH:MM` in WITA; `None` → `–`.
pub fn time_ms(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "–".into();
    };
    let zone = FixedOffset::east_opt(WITA_SECS)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&zone).format("%d/%m/%Y %H:%M").to_string(),
        None => "–".into(),
    }
}

/// A `YYYY-MM` month as `Januari 2026` / `January 2026`.
pub fn month(ym: &str, en: bool) -> String {
    let Some((y, m)) = ym.split_once('-') else {
        return ym.to_string();
    };
    match m.parse::<usize>() {
        Ok(m @ 1..=12) => {
            let names = if en { &MONTH_NAMES_EN } else { &MONTH_NAMES_ID };
            format!("{} {y}", names[m - 1])
        }
        _ => ym.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_use_a_decimal_comma_and_dots_between_thousands() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1.000");
        assert_eq!(int(1234567), "1.234.567");
        assert_eq!(int(-12345), "-12.345");
        assert_eq!(dec(12.5, 1), "12,5");
        assert_eq!(dec(1234.5, 2), "1.234,50");
        assert_eq!(dec(-0.01, 1), "0,0");
        assert_eq!(dec(-2.25, 1), "-2,2");
        assert_eq!(pct(Some(0.4567)), "45,7%");
        assert_eq!(pct(Some(1.0)), "100,0%");
        assert_eq!(pct(None), "–");
    }

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(date("2026-03-07"), "07/03/2026");
        assert_eq!(date("2026-03-07T10:00:00Z"), "07/03/2026");
        assert_eq!(date("bukan"), "bukan");
        // 2026-01-01 16:30 UTC is 2026-01-02 00:30 WITA.
        assert_eq!(time_ms(Some(1_767_285_000_000)), "02/01/2026 00:30");
        assert_eq!(time_ms(None), "–");
        assert_eq!(month("2026-03", false), "Maret 2026");
        assert_eq!(month("2026-03", true), "March 2026");
    }
}
