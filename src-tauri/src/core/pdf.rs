//! The printable monthly posyandu report, made on the tablet, offline (printpdf). A4
//! landscape: the posyandu's name and code, the month, the date printed (dd/mm/yyyy), the
//! month's SKDN with its ratios, and the F1 table (each age band by sex, the total last),
//! numbers with the decimal comma. The font is DejaVu Sans, compiled in and embedded
//! (`src-tauri/fonts/`, with its licence).

use super::report_files::{band_label, count_heads, month_label, percent, row_cells, sex_label};
use crate::settings::Locale;
use chrono::NaiveDate;
use health_rules::report::MonthlyReport;
use printpdf::{
    CustomPdfConformance, IndirectFontRef, Line, Mm, PdfConformance, PdfDocument,
    PdfLayerReference, Point,
};

pub(super) const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
pub(super) const PAGE_W: f32 = 297.0;
pub(super) const PAGE_H: f32 = 210.0;
pub(super) const MARGIN: f32 = 12.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the PDF could not be made: {0}")]
    Pdf(#[from] printpdf::Error),
}

struct Texts {
    title: &'static str,
    code: &'static str,
    month: &'static str,
    printed: &'static str,
    skdn: &'static str,
    ratios: &'static str,
    f1: &'static str,
    age: &'static str,
    sex: &'static str,
    problems: &'static str,
    footer: &'static str,
}

fn texts(locale: Locale) -> Texts {
    match locale {
        Locale::Id => Texts {
            title: "Laporan bulanan posyandu (SKDN dan F1)",
            code: "Kode",
            month: "Bulan",
            printed: "Dicetak",
            skdn: "SKDN bulan ini (semua umur 0–59 bulan)",
            ratios: "Cakupan",
            f1: "F1: per kelompok umur dan jenis kelamin",
            age: "Umur (bln)",
            sex: "L/P",
            problems: "anak tidak dapat dinilai (data kurang); tidak dihitung di D, N, T, O, B",
            footer: "Dibuat di tablet dengan Jangkau",
        },
        Locale::En => Texts {
            title: "Monthly posyandu report (SKDN and F1)",
            code: "Code",
            month: "Month",
            printed: "Printed",
            skdn: "SKDN this month (all ages 0–59 months)",
            ratios: "Coverage",
            f1: "F1: by age band and sex",
            age: "Age (mo)",
            sex: "M/F",
            problems: "children could not be assessed (data missing); not counted in D, N, T, O, B",
            footer: "Made on the tablet with Jangkau",
        },
    }
}

/// dd/mm/yyyy.
pub fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub(super) struct Page<'a> {
    pub(super) layer: PdfLayerReference,
    pub(super) font: &'a IndirectFontRef,
}

impl Page<'_> {
    /// Text with its baseline at `y` mm from the top of the page.
    pub(super) fn text(&self, s: &str, size: f32, x: f32, y: f32) {
        self.layer
            .use_text(s, size, Mm(x), Mm(PAGE_H - y), self.font);
    }

    pub(super) fn hline(&self, x0: f32, x1: f32, y: f32) {
        self.line(x0, y, x1, y);
    }

    pub(super) fn line(&self, x0: f32, y0: f32, x1: f32, y1: f32) {
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(x0), Mm(PAGE_H - y0)), false),
                (Point::new(Mm(x1), Mm(PAGE_H - y1)), false),
            ],
            is_closed: false,
        });
    }
}

/// The monthly report of `posyandu_name` as a PDF, printed on `printed_on`.
pub fn monthly_report_pdf(
    report: &MonthlyReport,
    posyandu_name: &str,
    printed_on: NaiveDate,
    locale: Locale,
) -> Result<Vec<u8>, PdfError> {
    let tx = texts(locale);
    let title = format!("{} · {}", tx.title, posyandu_name);
    let (doc, page, layer) = PdfDocument::new(&title, Mm(PAGE_W), Mm(PAGE_H), "report");
    // No ICC profile or XMP packet: a plain PDF 1.3 any viewer and printer reads.
    let doc = doc.with_conformance(PdfConformance::Custom(CustomPdfConformance {
        requires_icc_profile: false,
        requires_xmp_metadata: false,
        ..Default::default()
    }));
    let font = doc.add_external_font(FONT)?;
    let p = Page {
        layer: doc.get_page(page).get_layer(layer),
        font: &font,
    };
    p.layer.set_outline_thickness(0.5);

    let mut y = MARGIN + 6.0;
    p.text(tx.title, 16.0, MARGIN, y);
    y += 8.0;
    p.text(posyandu_name, 13.0, MARGIN, y);
    y += 6.0;
    p.text(
        &format!(
            "{}: {}   ·   {}: {}   ·   {}: {}",
            tx.code,
            report.posyandu_id,
            tx.month,
            month_label(report.month, locale),
            tx.printed,
            dmy(printed_on)
        ),
        10.0,
        MARGIN,
        y,
    );

    // The month's SKDN (all ages, both sexes) and its ratios.
    y += 10.0;
    p.text(tx.skdn, 11.0, MARGIN, y);
    let heads = count_heads(locale);
    if let Some(total) = report.rows.last() {
        let cells = row_cells(total);
        y += 6.0;
        let counts: Vec<String> = heads[..12]
            .iter()
            .zip(cells.iter())
            .map(|(h, v)| format!("{h}: {v}"))
            .collect();
        p.text(&counts[..7].join("    "), 10.0, MARGIN, y);
        y += 5.5;
        p.text(&counts[7..].join("    "), 10.0, MARGIN, y);
        y += 5.5;
        let r = &total.ratios;
        let ratios = [
            ("K/S", r.k_s),
            ("D/S", r.d_s),
            ("D/K", r.d_k),
            ("N/D", r.n_d),
            ("N/S", r.n_s),
            ("N/D'", r.n_d_prime),
        ]
        .iter()
        .map(|(k, v)| match v {
            Some(_) => format!("{k} {}%", percent(*v)),
            None => format!("{k} –"),
        })
        .collect::<Vec<_>>()
        .join("    ");
        p.text(&format!("{}: {ratios}", tx.ratios), 10.0, MARGIN, y);
    }

    // F1: one line per age band and sex.
    y += 10.0;
    p.text(tx.f1, 11.0, MARGIN, y);
    y += 3.0;
    let first = [16.0_f32, 11.0];
    let rest = (PAGE_W - 2.0 * MARGIN - first[0] - first[1]) / heads.len() as f32;
    let mut xs = vec![MARGIN, MARGIN + first[0], MARGIN + first[0] + first[1]];
    for i in 1..=heads.len() {
        xs.push(MARGIN + first[0] + first[1] + rest * i as f32);
    }
    let right = PAGE_W - MARGIN;
    let top = y;
    p.hline(MARGIN, right, y);
    // Heads on up to two lines (split at the first space).
    let head_texts: Vec<&str> = [tx.age, tx.sex].into_iter().chain(heads).collect();
    for (i, h) in head_texts.iter().enumerate() {
        let (a, b) = h.split_once(' ').unwrap_or((h, ""));
        p.text(a, 7.5, xs[i] + 1.0, y + 4.0);
        if !b.is_empty() {
            p.text(b, 7.5, xs[i] + 1.0, y + 7.5);
        }
    }
    y += 9.5;
    p.hline(MARGIN, right, y);
    let row_h = 5.2;
    for row in &report.rows {
        let is_total = row.band.is_none();
        let size = if is_total { 9.0 } else { 8.5 };
        let cells = row_cells(row);
        p.text(band_label(row), size, xs[0] + 1.0, y + 3.8);
        p.text(sex_label(row.sex, locale), size, xs[1] + 1.0, y + 3.8);
        for (i, c) in cells.iter().enumerate() {
            p.text(c, size, xs[i + 2] + 1.0, y + 3.8);
        }
        y += row_h;
        if row.sex.is_none() || is_total {
            p.hline(MARGIN, right, y);
        }
    }
    for x in &xs {
        p.line(*x, top, *x, y);
    }
    p.hline(MARGIN, right, y);

    if !report.problems.is_empty() {
        y += 7.0;
        p.text(
            &format!("{} {}", report.problems.len(), tx.problems),
            9.0,
            MARGIN,
            y,
        );
    }
    p.text(
        &format!("{} · {}", tx.footer, dmy(printed_on)),
        8.0,
        MARGIN,
        PAGE_H - 8.0,
    );
    Ok(doc.save_to_bytes()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::report_files::tests::sample;
    use std::collections::HashMap;

    /// The text of every page, as a reader's text extraction gives it: each text-showing
    /// operation's glyphs mapped back through the font's ToUnicode table, one per line.
    pub(crate) fn pdf_text(bytes: &[u8]) -> String {
        let doc = lopdf::Document::load_mem(bytes).expect("a PDF lopdf can read");
        let mut map: HashMap<u16, char> = HashMap::new();
        for obj in doc.objects.values() {
            let Ok(dict) = obj.as_dict() else { continue };
            let Ok(tu) = dict.get(b"ToUnicode") else {
                continue;
            };
            let id = tu.as_reference().expect("a ToUnicode reference");
            let stream = doc
                .get_object(id)
                .and_then(lopdf::Object::as_stream)
                .expect("a ToUnicode stream");
            let content = stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone());
            let text = String::from_utf8_lossy(&content);
            for line in text.lines() {
                let hex: Vec<&str> = line
                    .split(['<', '>'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                if let [g, u] = hex[..]
                    && let (Ok(g), Ok(u)) = (u16::from_str_radix(g, 16), u32::from_str_radix(u, 16))
                    && let Some(c) = char::from_u32(u)
                {
                    map.insert(g, c);
                }
            }
        }
        let mut out = String::new();
        for (_, page) in doc.get_pages() {
            let content = doc.get_page_content(page).expect("page content");
            let ops = lopdf::content::Content::decode(&content).expect("content operations");
            for op in ops.operations {
                if op.operator != "Tj" {
                    continue;
                }
                for operand in op.operands {
                    if let lopdf::Object::String(bytes, _) = operand {
                        for pair in bytes.chunks(2) {
                            let g = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
                            out.push(map.get(&g).copied().unwrap_or('\u{fffd}'));
                        }
                    }
                }
                out.push('\n');
            }
        }
        out
    }

    #[test]
    fn the_report_pdf_reads_back_with_names_numbers_and_dates() {
        let printed = NaiveDate::from_ymd_opt(2026, 12, 6).expect("a date");
        let bytes = monthly_report_pdf(&sample(), "Posyandu Mawar", printed, Locale::Id)
            .expect("the PDF is made");
        assert!(bytes.starts_with(b"%PDF-"));
        // To look at it: JANGKAU_PDF_OUT=/tmp/report.pdf cargo test -p jangkau-app --lib pdf
        if let Some(out) = std::env::var_os("JANGKAU_PDF_OUT") {
            std::fs::write(out, &bytes).expect("the PDF is written");
        }
        let text = pdf_text(&bytes);
        for want in [
            "Laporan bulanan posyandu (SKDN dan F1)",
            "Posyandu Mawar",
            "Kode: 53.04.05.2001.P01",
            "Bulan: Desember 2026",
            "Dicetak: 06/12/2026",
            "D/S 66,7%",
            "N/D 50,0%",
            "K/S 100,0%",
            "N/D' –",
            "Tidak hadir: 1",
            "6-11",
            "L+P",
        ] {
            assert!(
                text.contains(want),
                "{want:?} not in the PDF's text:\n{text}"
            );
        }
        // The F1 total line: S 3, K 3, D 2, N 1 and D/S 66,7 as cells of their own.
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .rposition(|l| *l == "0-59")
            .expect("the total line");
        assert_eq!(&lines[at + 1..at + 6], ["L+P", "3", "3", "2", "1"]);
        assert!(lines[at..].contains(&"66,7"));
        assert!(!text.contains("66.7"), "a dot decimal in the PDF");

        let en = pdf_text(
            &monthly_report_pdf(&sample(), "Posyandu Mawar", printed, Locale::En)
                .expect("the PDF is made"),
        );
        assert!(en.contains("Month: December 2026"));
        assert!(en.contains("Printed: 06/12/2026"));
        assert!(en.contains("M+F"));
    }
}
