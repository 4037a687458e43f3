//! HTML escaping and a small page builder: every text that did not come from this module's
//! own literals goes through [`esc`] (element text and quoted attribute values alike).

use std::fmt::Write;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline have no place in a page.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query parameter value.
pub fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A table: a header and rows of cells that are already HTML (escape text with [`esc`]).
#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Used for the CSV download link (`?csv=<id>`) and the test id.
    pub id: &'static str,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Extra class per row (e.g. `stale`), same length as `rows` or empty.
    pub row_class: Vec<&'static str>,
    /// At most this many rows on the page (the CSV has them all); `None`: all.
    pub page_limit: Option<usize>,
}

/// A table cell: what the page shows (HTML) and what the CSV holds (plain text).
#[derive(Debug, Clone)]
pub struct Cell {
    pub html: String,
    pub text: String,
    /// Right-aligned (a number).
    pub num: bool,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let text = s.into();
        Cell {
            html: esc(&text),
            text,
            num: false,
        }
    }
    pub fn num(s: impl Into<String>) -> Cell {
        let text = s.into();
        Cell {
            html: esc(&text),
            text,
            num: true,
        }
    }
    /// A link: `href` must be built from escaped or safe parts.
    pub fn link(text: impl Into<String>, href: &str) -> Cell {
        let text = text.into();
        Cell {
            html: format!("<a href=\"{}\">{}</a>", esc(href), esc(&text)),
            text,
            num: false,
        }
    }
}

impl Table {
    pub fn new(id: &'static str, head: &[&str]) -> Table {
        Table {
            id,
            head: head.iter().map(|h| (*h).to_string()).collect(),
            rows: Vec::new(),
            row_class: Vec::new(),
            page_limit: None,
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
        self.row_class.push("");
    }

    pub fn row_with(&mut self, cells: Vec<Cell>, class: &'static str) {
        self.rows.push(cells);
        self.row_class.push(class);
    }

    /// The table as HTML, with `empty` shown when it has no rows, and `more` (with the count
    /// of rows left out) past [`Table::page_limit`].
    pub fn html(&self, empty: &str, more: &str) -> String {
        let mut s = format!(
            "<div class=\"tw\"><table data-testid=\"table-{}\"><thead><tr>",
            self.id
        );
        for h in &self.head {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead><tbody>");
        if self.rows.is_empty() {
            let _ = write!(
                s,
                "<tr><td colspan=\"{}\" class=\"empty\">{}</td></tr>",
                self.head.len().max(1),
                esc(empty)
            );
        }
        let shown = self.page_limit.unwrap_or(usize::MAX);
        for (i, r) in self.rows.iter().enumerate().take(shown) {
            let class = self.row_class.get(i).copied().unwrap_or("");
            if class.is_empty() {
                s.push_str("<tr>");
            } else {
                let _ = write!(s, "<tr class=\"{class}\">");
            }
            for c in r {
                if c.num {
                    let _ = write!(s, "<td class=\"n\">{}</td>", c.html);
                } else {
                    let _ = write!(s, "<td>{}</td>", c.html);
                }
            }
            s.push_str("</tr>");
        }
        if self.rows.len() > shown {
            let _ = write!(
                s,
                "<tr><td colspan=\"{}\" class=\"empty\" data-testid=\"more-{}\">{} {}</td></tr>",
                self.head.len().max(1),
                self.id,
                self.rows.len() - shown,
                esc(more)
            );
        }
        s.push_str("</tbody></table></div>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(esc("Siti\u{0}"), "Siti\u{FFFD}");
        assert_eq!(esc("Bayi Ñoña\nbaris"), "Bayi Ñoña\nbaris");
    }

    #[test]
    fn a_name_in_a_table_cannot_open_a_tag() {
        let mut t = Table::new("x", &["Nama"]);
        t.row(vec![Cell::text("<img src=x onerror=alert(1)>")]);
        t.row(vec![Cell::link("a\"b", "/dasbor/anak/1?x=\"><script>")]);
        let h = t.html("-", "more");
        assert!(!h.contains("<img"), "{h}");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(h.contains("href=\"/dasbor/anak/1?x=&quot;&gt;&lt;script&gt;\""));
    }

    #[test]
    fn a_long_table_is_cut_on_the_page_only() {
        let mut t = Table::new("x", &["n"]);
        for i in 0..5 {
            t.row(vec![Cell::num(i.to_string())]);
        }
        t.page_limit = Some(2);
        let h = t.html("-", "baris lagi di CSV");
        assert_eq!(h.matches("<td class=\"n\">").count(), 2);
        assert!(h.contains("3 baris lagi di CSV"));
        assert_eq!(
            crate::web::csv::to_csv(&t).lines().count(),
            6,
            "the CSV has every row"
        );
    }

    #[test]
    fn urls_are_percent_encoded() {
        assert_eq!(url("53.04.PKM07"), "53.04.PKM07");
        assert_eq!(url("a b&c=\"d\""), "a%20b%26c%3D%22d%22");
    }
}
