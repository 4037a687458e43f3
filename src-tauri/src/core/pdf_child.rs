//! Printable PDFs of one child, made on the tablet, offline (printpdf, DejaVu Sans embedded
//! as in `pdf.rs`): the KMS growth chart (the WHO curves −3 … +3 SD of health-rules' chart
//! data, the KMS red and orange lines, the child's points, then every measurement in a
//! table) and the immunisation card (every dose of the schedule with its state and dates).
//! Dates dd/mm/yyyy, values with the decimal comma. A4 landscape.

use super::pdf::{FONT, MARGIN, PAGE_H, PAGE_W, Page, PdfError, dmy};
use crate::settings::Locale;
use chrono::NaiveDate;
use field_core::{CardStatus, ChartPoint, GrowthChart, ImmunisationCard, IndicatorChart};
use health_rules::Label;
use health_rules::immunisation::DoseState;
use printpdf::{
    Color, CustomPdfConformance, IndirectFontRef, Mm, PdfConformance, PdfDocument,
    PdfDocumentReference, PdfLayerIndex, PdfPageIndex, Rect, Rgb,
};
use std::collections::BTreeMap;

fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

fn black() -> Color {
    rgb(0.0, 0.0, 0.0)
}

/// A value with the decimal comma ("9,6").
pub(super) fn comma(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}").replace('.', ",")
}

fn say(l: &Label, locale: Locale) -> &'static str {
    match locale {
        Locale::Id => l.id,
        Locale::En => l.en,
    }
}

/// `YYYY-MM-DD` as dd/mm/yyyy (as given when it is not a date).
fn day(s: &str) -> String {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.to_string(), dmy)
}

fn pick(locale: Locale, id: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::Id => id,
        Locale::En => en,
    }
}

/// A new landscape A4 document (plain PDF 1.3, no ICC profile) with the font embedded.
fn new_doc(title: &str) -> Result<(Doc, IndirectFontRef), PdfError> {
    let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "page");
    let doc = doc.with_conformance(PdfConformance::Custom(CustomPdfConformance {
        requires_icc_profile: false,
        requires_xmp_metadata: false,
        ..Default::default()
    }));
    let font = doc.add_external_font(FONT)?;
    Ok((
        Doc {
            doc,
            first: (page, layer),
        },
        font,
    ))
}

struct Doc {
    doc: PdfDocumentReference,
    first: (PdfPageIndex, PdfLayerIndex),
}

impl Doc {
    fn save(self) -> Result<Vec<u8>, PdfError> {
        Ok(self.doc.save_to_bytes()?)
    }
}

/// Page `n` (0-based) of `doc`, adding it when it is the next one.
fn page<'a>(doc: &Doc, font: &'a IndirectFontRef, n: usize) -> Page<'a> {
    let (p, l) = if n == 0 {
        doc.first
    } else {
        doc.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "page")
    };
    let layer = doc.doc.get_page(p).get_layer(l);
    layer.set_outline_thickness(0.4);
    Page { layer, font }
}

fn footer(p: &Page, text: &str, printed_on: NaiveDate, n: usize) {
    p.layer.set_fill_color(black());
    p.text(
        &format!("{text} · {} · {}", dmy(printed_on), n + 1),
        8.0,
        MARGIN,
        PAGE_H - 8.0,
    );
}

// ---------------------------------------------------------------- growth chart

/// Where a chart is drawn on the page (mm from the top left) and its value ranges.
struct Frame {
    x0: f32,
    y0: f32,
    x1: f32,
    y1: f32,
    max_age: f64,
    min_v: f64,
    max_v: f64,
}

impl Frame {
    fn x(&self, age_months: f64) -> f32 {
        self.x0 + ((age_months / self.max_age) as f32) * (self.x1 - self.x0)
    }
    fn y(&self, v: f64) -> f32 {
        self.y1 - (((v - self.min_v) / (self.max_v - self.min_v)) as f32) * (self.y1 - self.y0)
    }
}

/// The colour of an SD curve (−3 … +3): black at ±3, red at ±2, orange at ±1, green at 0.
fn sd_colour(i: usize) -> Color {
    match i {
        0 | 6 => rgb(0.15, 0.15, 0.15),
        1 | 5 => rgb(0.8, 0.1, 0.1),
        2 | 4 => rgb(0.9, 0.55, 0.0),
        _ => rgb(0.0, 0.55, 0.2),
    }
}

fn polyline(p: &Page, pts: &[(f32, f32)]) {
    for w in pts.windows(2) {
        p.line(w[0].0, w[0].1, w[1].0, w[1].1);
    }
}

fn draw_chart(p: &Page, c: &IndicatorChart, top: f32, locale: Locale) {
    let chart = &c.chart;
    let max_age = chart
        .curves
        .iter()
        .map(|cp| cp.age_months)
        .fold(1.0_f64, f64::max)
        .ceil();
    let lows = chart.curves.iter().map(|cp| cp.sd[0]);
    let highs = chart.curves.iter().map(|cp| cp.sd[6]);
    let plotted = c.points.iter().map(|pt| pt.point.plotted);
    let min_v = lows.chain(plotted.clone()).fold(f64::MAX, f64::min);
    let max_v = highs.chain(plotted).fold(f64::MIN, f64::max);
    let step = if chart.unit == "kg" { 1.0 } else { 5.0 };
    let (min_v, max_v) = if min_v <= max_v {
        (
            (min_v / step).floor() * step,
            ((max_v / step).ceil() * step).max((min_v / step).floor() * step + step),
        )
    } else {
        (0.0, step)
    };
    let f = Frame {
        x0: MARGIN + 12.0,
        y0: top,
        x1: PAGE_W - MARGIN - 14.0,
        y1: PAGE_H - 22.0,
        max_age,
        min_v,
        max_v,
    };

    // Grid: every month (every 6th darker, labelled) and every step of the value.
    p.layer.set_outline_thickness(0.1);
    for m in 0..=(max_age as i64) {
        let x = f.x(m as f64);
        let labelled = m % 6 == 0;
        p.layer.set_outline_color(if labelled {
            rgb(0.55, 0.55, 0.55)
        } else {
            rgb(0.85, 0.85, 0.85)
        });
        p.line(x, f.y0, x, f.y1);
        if labelled {
            p.layer.set_fill_color(black());
            p.text(&m.to_string(), 7.0, x - 1.5, f.y1 + 4.0);
        }
    }
    let mut v = min_v;
    while v <= max_v + 1e-9 {
        let y = f.y(v);
        p.layer.set_outline_color(rgb(0.7, 0.7, 0.7));
        p.line(f.x0, y, f.x1, y);
        p.layer.set_fill_color(black());
        p.text(&comma(v, 0), 7.0, MARGIN, y + 1.0);
        v += step;
    }
    p.layer.set_fill_color(black());
    p.text(
        pick(locale, "Umur (bulan)", "Age (months)"),
        8.0,
        (f.x0 + f.x1) / 2.0 - 10.0,
        f.y1 + 8.5,
    );
    p.text(chart.unit, 8.0, MARGIN, f.y0 - 2.0);

    // The WHO curves, labelled at their right end.
    p.layer.set_outline_thickness(0.5);
    for (i, sd) in chart.sd_levels.iter().enumerate() {
        let pts: Vec<(f32, f32)> = chart
            .curves
            .iter()
            .map(|cp| (f.x(cp.age_months), f.y(cp.sd[i])))
            .collect();
        p.layer.set_outline_color(sd_colour(i));
        polyline(p, &pts);
        if let Some(&(x, y)) = pts.last() {
            p.layer.set_fill_color(sd_colour(i));
            let name = match sd {
                0 => "0".to_string(),
                s if *s > 0 => format!("+{s}"),
                s => format!("\u{2212}{}", s.abs()),
            };
            p.text(&format!("{name} SD"), 7.0, x + 1.0, y + 1.0);
        }
    }

    // The KMS red and orange lines (weight-for-age), thick.
    p.layer.set_outline_thickness(1.0);
    for line in &chart.lines {
        let colour = if line.kind.contains("red") {
            rgb(0.85, 0.0, 0.0)
        } else {
            rgb(1.0, 0.5, 0.0)
        };
        p.layer.set_outline_color(colour);
        let pts: Vec<(f32, f32)> = line
            .points
            .iter()
            .map(|lp| (f.x(lp.age_months), f.y(lp.value)))
            .collect();
        polyline(p, &pts);
    }

    // The child's points, joined, each a small blue square.
    let pts: Vec<(f32, f32)> = c
        .points
        .iter()
        .map(|pt| (f.x(pt.point.age_months), f.y(pt.point.plotted)))
        .collect();
    let blue = rgb(0.05, 0.2, 0.75);
    p.layer.set_outline_thickness(0.8);
    p.layer.set_outline_color(blue.clone());
    polyline(p, &pts);
    p.layer.set_fill_color(blue);
    for (x, y) in pts {
        p.layer.add_rect(Rect::new(
            Mm(x - 0.9),
            Mm(PAGE_H - y - 0.9),
            Mm(x + 0.9),
            Mm(PAGE_H - y + 0.9),
        ));
    }
    p.layer.set_outline_color(black());
    p.layer.set_fill_color(black());
    p.layer.set_outline_thickness(0.4);
}

struct GrowthTexts {
    title: &'static str,
    born: &'static str,
    age: &'static str,
    months: &'static str,
    printed: &'static str,
    latest: &'static str,
    legend: &'static str,
    table: &'static str,
    heads: [&'static str; 7],
    none: &'static str,
    problems: &'static str,
    footer: &'static str,
}

fn growth_texts(locale: Locale) -> GrowthTexts {
    match locale {
        Locale::Id => GrowthTexts {
            title: "KMS: grafik pertumbuhan anak",
            born: "Lahir",
            age: "Umur",
            months: "bulan",
            printed: "Dicetak",
            latest: "Penimbangan terakhir",
            legend: "Kurva WHO 2006 −3 … +3 SD; garis tebal merah dan oranye: garis KMS; titik biru: anak ini",
            table: "Semua pengukuran",
            heads: [
                "Tanggal",
                "Umur (bln)",
                "BB (kg)",
                "z BB/U",
                "KMS",
                "PB/TB (cm)",
                "z PB/U",
            ],
            none: "Belum ada pengukuran.",
            problems: "catatan tidak dapat dipakai (periksa datanya)",
            footer: "Dibuat di tablet dengan Jangkau",
        },
        Locale::En => GrowthTexts {
            title: "KMS: child growth chart",
            born: "Born",
            age: "Age",
            months: "months",
            printed: "Printed",
            latest: "Latest weighing",
            legend: "WHO 2006 curves −3 … +3 SD; thick red and orange: the KMS lines; blue points: this child",
            table: "All measurements",
            heads: [
                "Date",
                "Age (mo)",
                "Weight (kg)",
                "z WFA",
                "KMS",
                "Length/height (cm)",
                "z LHFA",
            ],
            none: "No measurements yet.",
            problems: "records could not be used (check them)",
            footer: "Made on the tablet with Jangkau",
        },
    }
}

fn sex_word(g: &GrowthChart, locale: Locale) -> &'static str {
    match (g.sex, locale) {
        (health_rules::Sex::Male, Locale::Id) => "Laki-laki",
        (health_rules::Sex::Female, Locale::Id) => "Perempuan",
        (health_rules::Sex::Male, Locale::En) => "Boy",
        (health_rules::Sex::Female, Locale::En) => "Girl",
    }
}

fn growth_head(p: &Page, g: &GrowthChart, tx: &GrowthTexts, printed_on: NaiveDate, locale: Locale) {
    p.text(tx.title, 14.0, MARGIN, MARGIN + 4.0);
    let mut who = vec![
        g.name.clone(),
        sex_word(g, locale).to_string(),
        format!("{}: {}", tx.born, day(&g.birth_date)),
    ];
    if let Some(m) = g.age_months {
        who.push(format!("{}: {m} {}", tx.age, tx.months));
    }
    who.push(format!("{}: {}", tx.printed, dmy(printed_on)));
    p.text(&who.join("   ·   "), 10.0, MARGIN, MARGIN + 10.0);
}

/// The growth chart of a child as a PDF: a page per chart (weight-for-age with the KMS
/// lines, then length/height-for-age), then the table of every measurement.
pub fn growth_chart_pdf(
    g: &GrowthChart,
    printed_on: NaiveDate,
    locale: Locale,
) -> Result<Vec<u8>, PdfError> {
    let tx = growth_texts(locale);
    let (doc, font) = new_doc(&format!("{} · {}", tx.title, g.name))?;
    let mut n = 0;
    for c in [&g.wfa, &g.lhfa] {
        let p = page(&doc, &font, n);
        growth_head(&p, g, &tx, printed_on, locale);
        let mut y = MARGIN + 17.0;
        p.text(say(&c.chart.label, locale), 11.0, MARGIN, y);
        if n == 0
            && let Some(l) = &g.latest
        {
            let mut parts = vec![day(&l.date)];
            if let Some(w) = l.weight_kg {
                parts.push(format!("{} kg", comma(w, 1)));
            }
            if let Some(h) = l.length_height_cm {
                parts.push(format!("{} cm", comma(h, 1)));
            }
            if let Some(k) = &l.kms {
                parts.push(format!("KMS: {}", say(&k.result.label(), locale)));
            }
            y += 5.0;
            p.text(
                &format!("{}: {}", tx.latest, parts.join(" · ")),
                9.0,
                MARGIN,
                y,
            );
        }
        y += 4.5;
        p.text(tx.legend, 7.5, MARGIN, y);
        draw_chart(&p, c, y + 6.0, locale);
        footer(&p, tx.footer, printed_on, n);
        n += 1;
    }

    // Every measurement day: weight and length/height side by side.
    let mut rows: BTreeMap<&str, (Option<&ChartPoint>, Option<&ChartPoint>)> = BTreeMap::new();
    for pt in &g.wfa.points {
        rows.entry(pt.date.as_str()).or_default().0 = Some(pt);
    }
    for pt in &g.lhfa.points {
        rows.entry(pt.date.as_str()).or_default().1 = Some(pt);
    }
    let xs = [MARGIN, 45.0, 75.0, 105.0, 130.0, 160.0, 200.0, 230.0];
    let mut p = page(&doc, &font, n);
    let mut y = table_top(&p, g, &tx, printed_on, locale, &xs);
    if rows.is_empty() {
        p.text(tx.none, 10.0, MARGIN, y + 5.0);
        y += 6.0;
    }
    for (date, (w, h)) in rows {
        if y > PAGE_H - 22.0 {
            footer(&p, tx.footer, printed_on, n);
            n += 1;
            p = page(&doc, &font, n);
            y = table_top(&p, g, &tx, printed_on, locale, &xs);
        }
        let any = w.or(h);
        let z = |pt: Option<&ChartPoint>| {
            pt.and_then(|pt| pt.point.z)
                .map(|z| comma(z, 2))
                .unwrap_or_default()
        };
        let kms = w.and_then(|pt| pt.kms).map(|k| {
            let bgm = g
                .kms
                .iter()
                .any(|m| m.date.format("%Y-%m-%d").to_string() == date && m.bgm == Some(true));
            format!("{k:?}{}", if bgm { " (BGM)" } else { "" })
        });
        let cells = [
            day(date),
            any.map(|pt| comma(pt.point.age_months, 1))
                .unwrap_or_default(),
            w.map(|pt| comma(pt.point.value, 1)).unwrap_or_default(),
            z(w),
            kms.unwrap_or_default(),
            h.map(|pt| comma(pt.point.value, 1)).unwrap_or_default(),
            z(h),
        ];
        for (i, c) in cells.iter().enumerate() {
            p.text(c, 9.0, xs[i] + 1.0, y + 4.0);
        }
        y += 5.5;
        p.hline(MARGIN, xs[7], y);
    }
    if !g.problems.is_empty() {
        p.text(
            &format!("{} {}", g.problems.len(), tx.problems),
            9.0,
            MARGIN,
            y + 6.0,
        );
    }
    footer(&p, tx.footer, printed_on, n);
    doc.save()
}

fn table_top(
    p: &Page,
    g: &GrowthChart,
    tx: &GrowthTexts,
    printed_on: NaiveDate,
    locale: Locale,
    xs: &[f32; 8],
) -> f32 {
    growth_head(p, g, tx, printed_on, locale);
    let mut y = MARGIN + 17.0;
    p.text(tx.table, 11.0, MARGIN, y);
    y += 3.0;
    p.hline(MARGIN, xs[7], y);
    for (i, h) in tx.heads.iter().enumerate() {
        p.text(h, 8.5, xs[i] + 1.0, y + 4.0);
    }
    y += 5.5;
    p.hline(MARGIN, xs[7], y);
    y
}

// ---------------------------------------------------------------- immunisation card

struct CardTexts {
    title: &'static str,
    born: &'static str,
    on: &'static str,
    printed: &'static str,
    heads: [&'static str; 4],
    birth: &'static str,
    months: &'static str,
    given: &'static str,
    due_from: &'static str,
    on_time_until: &'static str,
    kejar_until: &'static str,
    last_day: &'static str,
    also: &'static str,
    unmatched: &'static str,
    problems: &'static str,
    footer: &'static str,
}

fn card_texts(locale: Locale) -> CardTexts {
    match locale {
        Locale::Id => CardTexts {
            title: "Kartu imunisasi anak",
            born: "Lahir",
            on: "Status pada",
            printed: "Dicetak",
            heads: ["Umur", "Imunisasi", "Status", "Tanggal"],
            birth: "Lahir",
            months: "bln",
            given: "Diberikan",
            due_from: "Mulai",
            on_time_until: "Tepat waktu s.d.",
            kejar_until: "Kejar s.d.",
            last_day: "Terakhir boleh",
            also: "juga dicatat",
            unmatched: "Dicatat tanpa dosis jadwal",
            problems: "catatan tidak dapat dipakai (periksa datanya)",
            footer: "Dibuat di tablet dengan Jangkau",
        },
        Locale::En => CardTexts {
            title: "Child immunisation card",
            born: "Born",
            on: "Status on",
            printed: "Printed",
            heads: ["Age", "Vaccine", "Status", "Date"],
            birth: "Birth",
            months: "mo",
            given: "Given",
            due_from: "From",
            on_time_until: "On time until",
            kejar_until: "Catch-up until",
            last_day: "Last allowed day",
            also: "also recorded",
            unmatched: "Recorded without a schedule dose",
            problems: "records could not be used (check them)",
            footer: "Made on the tablet with Jangkau",
        },
    }
}

fn status_colour(s: CardStatus) -> Color {
    match s {
        CardStatus::Given => rgb(0.0, 0.55, 0.2),
        CardStatus::Due => rgb(0.9, 0.55, 0.0),
        CardStatus::Overdue => rgb(0.8, 0.1, 0.1),
        CardStatus::Upcoming => rgb(0.35, 0.45, 0.7),
        CardStatus::NoLongerAllowed | CardStatus::NotApplicable => rgb(0.6, 0.6, 0.6),
    }
}

fn dose_dates(state: &DoseState, tx: &CardTexts) -> String {
    match state {
        DoseState::Given { date, .. } => format!("{} {}", tx.given, dmy(*date)),
        DoseState::NotYetDue { due_date } => format!("{} {}", tx.due_from, dmy(*due_date)),
        DoseState::Due { on_time_until, .. } => {
            format!("{} {}", tx.on_time_until, dmy(*on_time_until))
        }
        DoseState::Overdue {
            allowed_until: Some(d),
            ..
        } => format!("{} {}", tx.kejar_until, dmy(*d)),
        DoseState::Overdue {
            due_date,
            allowed_until: None,
        } => format!("{} {}", tx.due_from, dmy(*due_date)),
        DoseState::NoLongerAllowed { last_day } => format!("{} {}", tx.last_day, dmy(*last_day)),
        DoseState::NotApplicable => String::new(),
    }
}

const CARD_X: [f32; 5] = [MARGIN, 32.0, 90.0, 190.0, PAGE_W - MARGIN];

fn card_top(p: &Page, c: &ImmunisationCard, tx: &CardTexts, printed_on: NaiveDate) -> f32 {
    p.text(tx.title, 14.0, MARGIN, MARGIN + 4.0);
    p.text(
        &[
            c.name.clone(),
            format!("{}: {}", tx.born, day(&c.birth_date)),
            format!("{}: {}", tx.on, day(&c.on)),
            format!("{}: {}", tx.printed, dmy(printed_on)),
        ]
        .join("   ·   "),
        10.0,
        MARGIN,
        MARGIN + 10.0,
    );
    let y = MARGIN + 15.0;
    p.hline(CARD_X[0], CARD_X[4], y);
    for (i, h) in tx.heads.iter().enumerate() {
        p.text(h, 9.0, CARD_X[i] + 1.0, y + 4.2);
    }
    p.hline(CARD_X[0], CARD_X[4], y + 6.0);
    y + 6.0
}

/// The immunisation card of a child as a PDF: every dose in schedule order with the age it
/// is for, its state in words and its dates; then the records that name no dose.
pub fn immunisation_card_pdf(
    c: &ImmunisationCard,
    printed_on: NaiveDate,
    locale: Locale,
) -> Result<Vec<u8>, PdfError> {
    let tx = card_texts(locale);
    let (doc, font) = new_doc(&format!("{} · {}", tx.title, c.name))?;
    let mut n = 0;
    let mut p = page(&doc, &font, n);
    let mut y = card_top(&p, c, &tx, printed_on);
    let row_h = 6.0;
    for d in &c.doses {
        if y > PAGE_H - 22.0 {
            footer(&p, tx.footer, printed_on, n);
            n += 1;
            p = page(&doc, &font, n);
            y = card_top(&p, c, &tx, printed_on);
        }
        let age = match d.due_age {
            Some(o) if o.months == 0 && o.days == 0 => tx.birth.to_string(),
            Some(o) if o.months == 0 => format!("{} hr", o.days),
            Some(o) => format!("{} {}", o.months, tx.months),
            None => String::new(),
        };
        let mut dates = dose_dates(&d.state, &tx);
        if !d.also_recorded.is_empty() {
            let again: Vec<String> = d.also_recorded.iter().map(|r| day(&r.date)).collect();
            dates = format!("{dates} ({} {})", tx.also, again.join(", "));
        }
        p.layer.set_fill_color(status_colour(d.status));
        let (cx, cy) = (CARD_X[2] + 1.0, y + 1.5);
        p.layer.add_rect(Rect::new(
            Mm(cx),
            Mm(PAGE_H - cy - 3.0),
            Mm(cx + 3.0),
            Mm(PAGE_H - cy),
        ));
        p.layer.set_fill_color(black());
        p.text(&age, 9.0, CARD_X[0] + 1.0, y + 4.3);
        p.text(&d.name, 9.0, CARD_X[1] + 1.0, y + 4.3);
        p.text(say(&d.label, locale), 9.0, CARD_X[2] + 5.5, y + 4.3);
        p.text(&dates, 9.0, CARD_X[3] + 1.0, y + 4.3);
        y += row_h;
        p.hline(CARD_X[0], CARD_X[4], y);
    }
    if !c.unmatched.is_empty() {
        let list: Vec<String> = c
            .unmatched
            .iter()
            .map(|r| format!("{} ({})", r.vaccine, day(&r.date)))
            .collect();
        y += 6.0;
        p.text(
            &format!("{}: {}", tx.unmatched, list.join(", ")),
            9.0,
            MARGIN,
            y,
        );
    }
    if !c.problems.is_empty() {
        y += 6.0;
        p.text(
            &format!("{} {}", c.problems.len(), tx.problems),
            9.0,
            MARGIN,
            y,
        );
    }
    footer(&p, tx.footer, printed_on, n);
    doc.save()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::pdf::tests::pdf_text;
    use field_core::{CardDose, CardRecord, LatestGrowth};
    use health_rules::Sex;
    use health_rules::growth::Indicator;
    use health_rules::growth::chart::{ChartInput, chart, place_points};
    use health_rules::immunisation::{Offset, Timing};
    use health_rules::kms::{KmsResult, MonthResult, YearMonth};
    use sync_protocol::RecordId;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    /// A boy born 01/01/2025 weighed and measured three times, on health-rules' own charts.
    fn yosef() -> GrowthChart {
        let birth = date(2025, 1, 1);
        let visits = [
            (date(2025, 3, 5), 5.6, 58.4, Some(KmsResult::B)),
            (date(2025, 4, 2), 6.45, 61.0, Some(KmsResult::N)),
            (date(2025, 5, 7), 6.4, 62.5, Some(KmsResult::T)),
        ];
        let indicator_chart = |indicator: Indicator| IndicatorChart {
            chart: chart(indicator, Sex::Male).expect("the WHO chart"),
            points: visits
                .iter()
                .map(|&(d, kg, cm, kms)| {
                    let age_days = (d - birth).num_days() as u32;
                    let value = if indicator == Indicator::WeightForAge {
                        kg
                    } else {
                        cm
                    };
                    ChartPoint {
                        date: d.format("%Y-%m-%d").to_string(),
                        fact: RecordId::new_v7(),
                        point: place_points(
                            indicator,
                            Sex::Male,
                            &[ChartInput {
                                age_days,
                                value,
                                position: None,
                            }],
                        )
                        .pop()
                        .expect("a placed point"),
                        kms: kms.filter(|_| indicator == Indicator::WeightForAge),
                    }
                })
                .collect(),
        };
        let t = MonthResult {
            month: YearMonth {
                year: 2025,
                month: 5,
            },
            date: date(2025, 5, 7),
            weight_g: 6400,
            age_months: 4,
            result: KmsResult::T,
            gain_g: Some(-50),
            kbm_g: Some(600),
            two_t: false,
            bgm: Some(false),
            above_orange: Some(false),
        };
        GrowthChart {
            person: RecordId::new_v7(),
            name: "Yosef Bere".into(),
            sex: Sex::Male,
            birth_date: "2025-01-01".into(),
            age_months: Some(4),
            kbm_table: "kbm-buku-kia-v1".into(),
            wfa: indicator_chart(Indicator::WeightForAge),
            lhfa: indicator_chart(Indicator::LengthHeightForAge),
            kms: vec![t.clone()],
            latest: Some(LatestGrowth {
                date: "2025-05-07".into(),
                age_months: 4,
                weight_kg: Some(6.4),
                length_height_cm: Some(62.5),
                kms: Some(t),
                findings: vec![],
                current: true,
            }),
            next_action: None,
            problems: vec![],
        }
    }

    fn save(name: &str, bytes: &[u8]) {
        // To look at it: JANGKAU_PDF_DIR=/tmp cargo test -p jangkau-app --lib pdf_child
        if let Some(dir) = std::env::var_os("JANGKAU_PDF_DIR") {
            std::fs::write(std::path::Path::new(&dir).join(name), bytes).expect("written");
        }
    }

    #[test]
    fn the_growth_chart_pdf_reads_back_with_curves_points_and_dates() {
        let g = yosef();
        let bytes = growth_chart_pdf(&g, date(2025, 5, 8), Locale::Id).expect("the PDF");
        assert!(bytes.starts_with(b"%PDF-"));
        save("kms.pdf", &bytes);
        let doc = lopdf::Document::load_mem(&bytes).expect("a PDF lopdf reads");
        assert_eq!(doc.get_pages().len(), 3, "two charts and the table");
        let text = pdf_text(&bytes);
        for want in [
            "KMS: grafik pertumbuhan anak",
            "Yosef Bere   ·   Laki-laki   ·   Lahir: 01/01/2025   ·   Umur: 4 bulan   ·   Dicetak: 08/05/2025",
            "Berat badan menurut umur (BB/U)",
            "Panjang/tinggi badan menurut umur (PB/U, TB/U)",
            "Penimbangan terakhir: 07/05/2025 · 6,4 kg · 62,5 cm · KMS: T: berat badan tidak naik",
            "\u{2212}3 SD",
            "\u{2212}2 SD",
            "0 SD",
            "+3 SD",
            "Umur (bulan)",
            "Semua pengukuran",
        ] {
            assert!(
                text.contains(want),
                "{want:?} not in the PDF's text:\n{text}"
            );
        }
        // The table: each day with its age, weight, z, KMS result, length; commas only.
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| *l == "02/04/2025")
            .expect("the second visit's row");
        assert_eq!(lines[at + 2], "6,5", "{:?}", &lines[at..at + 7]);
        assert_eq!(lines[at + 4], "N");
        assert_eq!(lines[at + 5], "61,0");
        let z = g.wfa.points[1].point.z.expect("a z-score");
        assert_eq!(lines[at + 3], format!("{z:.2}").replace('.', ","));
        assert!(lines.contains(&"05/03/2025") && lines.contains(&"07/05/2025"));
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("6.4") || l.contains("2025-"))
        );
        // The curves and points are drawn: many line segments, and a square per point.
        let content = doc
            .get_page_content(*doc.get_pages().get(&1).expect("page 1"))
            .expect("page content");
        let ops = lopdf::content::Content::decode(&content).expect("operations");
        let rects = ops.operations.iter().filter(|o| o.operator == "re").count();
        assert_eq!(rects, 3, "one square per weighing");
        let strokes = ops.operations.iter().filter(|o| o.operator == "S").count();
        assert!(strokes > 7 * 50, "the seven curves are drawn: {strokes}");

        let en = pdf_text(&growth_chart_pdf(&g, date(2025, 5, 8), Locale::En).expect("the PDF"));
        assert!(en.contains("Latest weighing: 07/05/2025 · 6,4 kg · 62,5 cm"));
        assert!(en.contains("Weight-for-age"));
    }

    #[test]
    fn a_child_never_measured_still_prints_the_empty_chart() {
        let mut g = yosef();
        g.wfa.points.clear();
        g.lhfa.points.clear();
        g.latest = None;
        g.kms.clear();
        let text = pdf_text(&growth_chart_pdf(&g, date(2025, 5, 8), Locale::Id).expect("the PDF"));
        assert!(text.contains("Belum ada pengukuran."), "{text}");
        assert!(!text.contains("Penimbangan terakhir"));
    }

    fn dose(id: &str, months: u32, state: DoseState, status: CardStatus) -> CardDose {
        CardDose {
            dose_id: id.into(),
            series: id.into(),
            name: id.into(),
            due_age: Some(Offset { months, days: 0 }),
            status,
            label: state.label(),
            state,
            given: None,
            also_recorded: vec![],
        }
    }

    #[test]
    fn the_immunisation_card_pdf_reads_back_with_doses_states_and_dates() {
        let record = |vaccine: &str, d: &str| CardRecord {
            fact: RecordId::new_v7(),
            vaccine: vaccine.into(),
            date: d.into(),
        };
        let mut bcg = dose(
            "BCG",
            1,
            DoseState::Given {
                date: date(2025, 1, 20),
                timing: Timing::OnTime,
            },
            CardStatus::Given,
        );
        bcg.given = Some(record("BCG", "2025-01-20"));
        bcg.also_recorded = vec![record("BCG", "2025-02-03")];
        let card = ImmunisationCard {
            person: RecordId::new_v7(),
            name: "Yosef Bere".into(),
            birth_date: "2025-01-01".into(),
            on: "2025-05-08".into(),
            schedule_id: "imunisasi-rutin-2023".into(),
            je_area: false,
            doses: vec![
                dose(
                    "HB0",
                    0,
                    DoseState::NoLongerAllowed {
                        last_day: date(2025, 1, 8),
                    },
                    CardStatus::NoLongerAllowed,
                ),
                bcg,
                dose(
                    "DPT-HB-Hib 1",
                    2,
                    DoseState::Overdue {
                        due_date: date(2025, 3, 1),
                        allowed_until: Some(date(2026, 1, 1)),
                    },
                    CardStatus::Overdue,
                ),
                dose(
                    "DPT-HB-Hib 2",
                    3,
                    DoseState::Due {
                        due_date: date(2025, 4, 1),
                        on_time_until: date(2025, 5, 31),
                    },
                    CardStatus::Due,
                ),
                dose(
                    "MR1",
                    9,
                    DoseState::NotYetDue {
                        due_date: date(2025, 10, 1),
                    },
                    CardStatus::Upcoming,
                ),
            ],
            unmatched: vec![record("Polio", "2025-02-03")],
            problems: vec![],
        };
        let bytes = immunisation_card_pdf(&card, date(2025, 5, 8), Locale::Id).expect("the PDF");
        assert!(bytes.starts_with(b"%PDF-"));
        save("imunisasi.pdf", &bytes);
        let text = pdf_text(&bytes);
        for want in [
            "Kartu imunisasi anak",
            "Yosef Bere   ·   Lahir: 01/01/2025   ·   Status pada: 08/05/2025   ·   Dicetak: 08/05/2025",
            "Umur",
            "Imunisasi",
            "Lahir",
            "Terakhir boleh 08/01/2025",
            "Diberikan 20/01/2025 (juga dicatat 03/02/2025)",
            "Kejar s.d. 01/01/2026",
            "Tepat waktu s.d. 31/05/2025",
            "Mulai 01/10/2025",
            "9 bln",
            "Dicatat tanpa dosis jadwal: Polio (03/02/2025)",
        ] {
            assert!(
                text.contains(want),
                "{want:?} not in the PDF's text:\n{text}"
            );
        }
        for d in &card.doses {
            assert!(
                text.contains(d.label.id),
                "{:?} not in:\n{text}",
                d.label.id
            );
        }
        // A row is age, name, state, dates in that order.
        let lines: Vec<&str> = text.lines().collect();
        let at = lines.iter().position(|l| *l == "MR1").expect("the MR1 row");
        assert_eq!(lines[at - 1], "9 bln");
        assert_eq!(lines[at + 2], "Mulai 01/10/2025");

        let en =
            pdf_text(&immunisation_card_pdf(&card, date(2025, 5, 8), Locale::En).expect("the PDF"));
        assert!(en.contains("Child immunisation card"));
        assert!(en.contains("Catch-up until 01/01/2026"));
        for d in &card.doses {
            assert!(en.contains(d.label.en), "{:?} not in:\n{en}", d.label.en);
        }
    }

    #[test]
    fn a_long_card_goes_on_to_a_second_page() {
        let doses: Vec<CardDose> = (0..40)
            .map(|i| {
                dose(
                    &format!("Dosis {i}"),
                    i,
                    DoseState::NotYetDue {
                        due_date: date(2026, 1, 1),
                    },
                    CardStatus::Upcoming,
                )
            })
            .collect();
        let card = ImmunisationCard {
            person: RecordId::new_v7(),
            name: "Anak".into(),
            birth_date: "2025-01-01".into(),
            on: "2025-05-08".into(),
            schedule_id: "s".into(),
            je_area: false,
            doses,
            unmatched: vec![],
            problems: vec![],
        };
        let bytes = immunisation_card_pdf(&card, date(2025, 5, 8), Locale::Id).expect("the PDF");
        let doc = lopdf::Document::load_mem(&bytes).expect("a PDF");
        assert_eq!(doc.get_pages().len(), 2);
        let text = pdf_text(&bytes);
        assert!(text.contains("Dosis 0") && text.contains("Dosis 39"));
        assert_eq!(
            text.matches("Kartu imunisasi anak").count(),
            2,
            "the head on each page"
        );
    }
}
