//! Tables as CSV for Indonesian Excel: `;` between fields (Excel in the Indonesian locale
//! reads `,` as the decimal comma), numbers with a decimal comma as the pages show them,
//! UTF-8 with a byte-order mark so Excel reads names right.

use super::html::Table;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The CSV text of a table.
pub fn to_csv(table: &Table) -> String {
    let mut out = String::from("\u{FEFF}");
    let line = |cells: Vec<&str>, out: &mut String| {
        let fields: Vec<String> = cells.into_iter().map(field).collect();
        out.push_str(&fields.join(";"));
        out.push_str("\r\n");
    };
    line(table.head.iter().map(String::as_str).collect(), &mut out);
    for r in &table.rows {
        line(r.iter().map(|c| c.text.as_str()).collect(), &mut out);
    }
    out
}

/// One field, quoted when it holds `;`, a quote or a line break; a leading `=`, `+`, `-` or
/// `@` of text is neutralised so a spreadsheet never runs it as a formula.
fn field(s: &str) -> String {
    let numeric = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | '%'))
        && s.chars().any(|c| c.is_ascii_digit());
    let s = if !numeric && s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The download answer.
pub fn response(table: &Table, name: &str) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut r = to_csv(table).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::html::Cell;

    #[test]
    fn semicolons_decimal_commas_and_quoting() {
        let mut t = Table::new("t", &["Posyandu", "D/S"]);
        t.row(vec![Cell::text("Mawar; Dusun 1"), Cell::num("45,7%")]);
        t.row(vec![Cell::text("=HYPERLINK(\"x\")"), Cell::num("-1,5")]);
        let c = to_csv(&t);
        assert!(c.starts_with('\u{FEFF}'));
        let lines: Vec<&str> = c.trim_start_matches('\u{FEFF}').split("\r\n").collect();
        assert_eq!(lines[0], "Posyandu;D/S");
        assert_eq!(lines[1], "\"Mawar; Dusun 1\";45,7%");
        assert_eq!(lines[2], "\"'=HYPERLINK(\"\"x\"\")\";-1,5");
    }
}
