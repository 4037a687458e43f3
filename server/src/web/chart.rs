//! Charts as inline SVG drawn on the server (no script, no image files): a line chart of
//! ratios by month (the SKDN trend), horizontal bars (prevalence per desa), and the growth
//! chart like the tablet's (WHO curves of weight-for-age at −3…+3 SD with the KMS red and
//! orange lines, the child's weighings on top), with the geometry ideas of
//! `ui/src/lib/chart.ts` (a little room past the latest age, whole quarters, 12–60 months).

use super::format;
use super::html::esc;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 240.0;
const PAD_L: f64 = 44.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 34.0;

/// One line of a [`lines`] chart: a name, a value (0–1) per x label, and its CSS class.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
    pub class: &'static str,
}

fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// Ratios (0–100 %) by month: one polyline per series (gaps where a month has no value),
/// the months under the x axis, a legend.
pub fn lines(title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" data-testid=\"chart-trend\">",
        esc(title)
    );
    let (pw, ph) = (W - PAD_L - PAD_R, H - PAD_T - PAD_B);
    for k in 0..=4 {
        let v = f64::from(k) * 25.0;
        let y = PAD_T + ph - ph * v / 100.0;
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}%</text>",
            n(PAD_L),
            n(y),
            n(W - PAD_R),
            n(y),
            n(PAD_L - 4.0),
            n(y + 4.0),
            v
        );
    }
    let step = if labels.len() > 1 {
        pw / (labels.len() - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| PAD_L + step * i as f64;
    for (i, l) in labels.iter().enumerate() {
        let _ = write!(
            s,
            "<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            n(x(i)),
            n(H - PAD_B + 16.0),
            esc(l)
        );
    }
    for (k, se) in series.iter().enumerate() {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, v) in se.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let y = PAD_T + ph - ph * v.clamp(0.0, 1.0);
                    if let Some(run) = runs.last_mut() {
                        run.push((x(i), y));
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let pts: Vec<String> = run
                .iter()
                .map(|(a, b)| format!("{},{}", n(*a), n(*b)))
                .collect();
            let _ = write!(
                s,
                "<polyline class=\"{}\" points=\"{}\"/>",
                se.class,
                pts.join(" ")
            );
            for (a, b) in run {
                let _ = write!(
                    s,
                    "<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"3\"/>",
                    se.class,
                    n(*a),
                    n(*b)
                );
            }
        }
        let lx = PAD_L + 8.0 + 120.0 * k as f64;
        let _ = write!(
            s,
            "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"12\" height=\"4\"/><text class=\"ax\" x=\"{}\" y=\"{}\">{}</text>",
            se.class,
            n(lx),
            n(H - 8.0),
            n(lx + 16.0),
            n(H - 3.0),
            esc(se.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars of shares (0–1) with their labels and values in words.
pub fn bars(title: &str, items: &[(String, Option<f64>)]) -> String {
    // Narrow, so three side by side stay readable on a laptop.
    const BW: f64 = 360.0;
    let row = 22.0;
    let h = PAD_T + row * items.len().max(1) as f64 + 8.0;
    let label_w = 140.0;
    let bw = BW - label_w - 56.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {BW} {}\" role=\"img\" aria-label=\"{}\" data-testid=\"chart-bars\">",
        n(h),
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = PAD_T + row * i as f64;
        let w = v.map_or(0.0, |v| bw * v.clamp(0.0, 1.0));
        let _ = write!(
            s,
            "<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\"/><text class=\"ax\" x=\"{}\" y=\"{}\">{}</text>",
            n(label_w - 6.0),
            n(y + 11.0),
            esc(&short(label, 22)),
            n(label_w),
            n(y),
            n(w),
            n(label_w + w + 4.0),
            n(y + 11.0),
            esc(&format::pct(*v))
        );
    }
    s.push_str("</svg>");
    s
}

/// `s` cut to `max` characters with an ellipsis (a bar's label; the table has the full name).
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A child's weighing on the growth chart.
pub struct GrowthDot {
    pub age_months: f64,
    pub kg: f64,
    /// The KMS result letter (N, T, O, B) or empty.
    pub kms: String,
    pub bgm: bool,
}

/// The months shown: a little past the latest point, whole quarters, 12 to 60 (as
/// `monthsShown` of `ui/src/lib/chart.ts`).
pub fn months_shown(latest: f64) -> f64 {
    let wanted = ((latest.max(0.0) + 2.0) / 3.0).ceil() * 3.0;
    wanted.clamp(12.0, 60.0)
}

/// The weight-for-age growth chart: the WHO curves at −3…+3 SD (shaded between −2 and +2),
/// the KMS red and orange lines, the child's weighings.
pub fn growth(
    chart: &health_rules::growth::chart::Chart,
    dots: &[GrowthDot],
    title: &str,
) -> String {
    let latest = dots.iter().map(|d| d.age_months).fold(0.0, f64::max);
    let to = months_shown(latest);
    let curves: Vec<_> = chart
        .curves
        .iter()
        .filter(|c| c.age_months <= to + 0.05)
        .collect();
    let max_kg = curves
        .iter()
        .map(|c| c.sd[6])
        .chain(dots.iter().map(|d| d.kg))
        .fold(0.0, f64::max);
    let top = (max_kg / 2.0).ceil() * 2.0 + 1.0;
    let (w, h) = (W, 360.0);
    let (pw, ph) = (w - PAD_L - PAD_R, h - PAD_T - PAD_B);
    let x = |m: f64| PAD_L + pw * m / to;
    let y = |kg: f64| PAD_T + ph - ph * (kg / top).clamp(0.0, 1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart growth\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" data-testid=\"chart-growth\">",
        esc(title)
    );
    let mut kg = 0.0;
    while kg <= top {
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            n(PAD_L),
            n(y(kg)),
            n(w - PAD_R),
            n(y(kg)),
            n(PAD_L - 4.0),
            n(y(kg) + 4.0),
            kg
        );
        kg += 2.0;
    }
    let mut m = 0.0;
    while m <= to {
        let _ = write!(
            s,
            "<text class=\"ax\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            n(x(m)),
            n(h - PAD_B + 16.0),
            m
        );
        m += 3.0;
    }
    // The band between −2 and +2 SD.
    if !curves.is_empty() {
        let up: Vec<String> = curves
            .iter()
            .map(|c| format!("{},{}", n(x(c.age_months)), n(y(c.sd[5]))))
            .collect();
        let down: Vec<String> = curves
            .iter()
            .rev()
            .map(|c| format!("{},{}", n(x(c.age_months)), n(y(c.sd[1]))))
            .collect();
        let _ = write!(
            s,
            "<polygon class=\"normal\" points=\"{} {}\"/>",
            up.join(" "),
            down.join(" ")
        );
    }
    for (k, class) in [(0, "sd3"), (1, "sd2"), (3, "sd0"), (5, "sd2"), (6, "sd3")] {
        let pts: Vec<String> = curves
            .iter()
            .map(|c| format!("{},{}", n(x(c.age_months)), n(y(c.sd[k]))))
            .collect();
        let _ = write!(
            s,
            "<polyline class=\"{class}\" points=\"{}\"/>",
            pts.join(" ")
        );
    }
    for line in &chart.lines {
        let pts: Vec<String> = line
            .points
            .iter()
            .filter(|p| p.age_months <= to + 0.05)
            .map(|p| format!("{},{}", n(x(p.age_months)), n(y(p.value))))
            .collect();
        let class = if line.kind == "red_line" {
            "kms-red"
        } else {
            "kms-orange"
        };
        let _ = write!(
            s,
            "<polyline class=\"{class}\" points=\"{}\"/>",
            pts.join(" ")
        );
    }
    let pts: Vec<String> = dots
        .iter()
        .map(|d| format!("{},{}", n(x(d.age_months)), n(y(d.kg))))
        .collect();
    if pts.len() > 1 {
        let _ = write!(
            s,
            "<polyline class=\"child\" points=\"{}\"/>",
            pts.join(" ")
        );
    }
    for d in dots {
        let class = if d.bgm { "dot bgm" } else { "dot" };
        let _ = write!(
            s,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"4\"><title>{} kg {}</title></circle>",
            n(x(d.age_months)),
            n(y(d.kg)),
            format::dec(d.kg, 1),
            esc(&d.kms)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_shown_as_the_tablet() {
        assert_eq!(months_shown(0.0), 12.0);
        assert_eq!(months_shown(10.5), 15.0);
        assert_eq!(months_shown(59.0), 60.0);
    }

    #[test]
    fn a_month_without_data_breaks_the_line_and_names_are_escaped() {
        let svg = lines(
            "t<",
            &["01".into(), "02".into(), "03".into()],
            &[Series {
                name: "D/S <x>",
                values: vec![Some(0.5), None, Some(0.75)],
                class: "s1",
            }],
        );
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert!(svg.contains("D/S &lt;x&gt;"));
        assert!(svg.contains("aria-label=\"t&lt;\""));
    }

    #[test]
    fn the_growth_chart_has_who_curves_and_kms_lines() {
        let chart = health_rules::growth::chart::chart(
            health_rules::growth::Indicator::WeightForAge,
            health_rules::Sex::Female,
        )
        .expect("WHO tables");
        let svg = growth(
            &chart,
            &[GrowthDot {
                age_months: 6.0,
                kg: 7.1,
                kms: "N".into(),
                bgm: false,
            }],
            "BB/U",
        );
        assert_eq!(svg.matches("class=\"sd0\"").count(), 1);
        assert!(svg.contains("kms-red"), "the KMS red line is drawn");
        assert!(svg.contains("7,1 kg"));
    }
}
