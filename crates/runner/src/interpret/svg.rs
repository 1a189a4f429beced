//! A sequence-logo-style track of one sequence's importances, as a standalone SVG.
//!
//! One letter per position, the reference base, as a filled glyph whose height is the
//! importance: above the baseline when positive, upside down below it when negative. The glyphs
//! are paths in a unit box (no font), scaled by a transform, so a letter's height is exactly its
//! value. A green, C blue, G orange, T red (the usual logo colours), N grey. Axes: importance on
//! the left, positions (1-based) below; the id, method, target and reference score on top.
//! Sequences longer than 200 bp wrap into rows of at most 150 positions, on one common scale.

use super::{Attribution, Method};
use std::fmt::Write as _;

/// Glyphs in a unit box (`x`, `y` in `0..1`, `y` down): base, colour, path.
const GLYPHS: [(u8, &str, &str); 5] = [
    (
        b'A',
        "#109648",
        "M0,1 L0.38,0 L0.62,0 L1,1 L0.77,1 L0.67,0.72 L0.33,0.72 L0.23,1 Z \
         M0.4,0.54 L0.6,0.54 L0.5,0.24 Z",
    ),
    (
        b'C',
        "#255C99",
        "M0.883,0.179 A0.5,0.5 0 1 0 0.883,0.821 L0.73,0.693 A0.3,0.3 0 1 1 0.73,0.307 Z",
    ),
    (
        b'G',
        "#F7B32B",
        "M0.883,0.179 A0.5,0.5 0 1 0 1,0.5 L0.55,0.5 L0.55,0.64 L0.765,0.64 \
         A0.3,0.3 0 1 1 0.73,0.307 Z",
    ),
    (
        b'T',
        "#D62839",
        "M0,0 L1,0 L1,0.18 L0.6,0.18 L0.6,1 L0.4,1 L0.4,0.18 L0,0.18 Z",
    ),
    (
        b'N',
        "#8C8C8C",
        "M0,1 L0,0 L0.2,0 L0.8,0.66 L0.8,0 L1,0 L1,1 L0.8,1 L0.2,0.34 L0.2,1 Z",
    ),
];

/// Layout, in pixels.
const LEFT: f64 = 78.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 58.0;
/// Height of the plot of a single-row logo, and of each row of a wrapped one.
const PLOT_SINGLE: f64 = 220.0;
const PLOT_ROW: f64 = 150.0;
/// Below each row: its position axis; below the last, the axis label.
const ROW_GAP: f64 = 36.0;
const BOTTOM: f64 = 22.0;
/// Sequences up to this length take one row; longer ones wrap into balanced rows of at most
/// [`ROW_WRAP`] positions (600 bp: 4 rows of 150), so letters stay readable.
const ROW_MAX: usize = 200;
const ROW_WRAP: usize = 150;
/// Width of the plotting area a row aims for.
const ROW_WIDTH: f64 = 1400.0;

/// Rows of a logo of `len` positions, and positions per row.
pub fn rows(len: usize) -> (usize, usize) {
    if len <= ROW_MAX {
        (1, len.max(1))
    } else {
        let rows = len.div_ceil(ROW_WRAP);
        (rows, len.div_ceil(rows))
    }
}

/// Width of one position in a row of `per_row` positions: 14 px at 100, 9.3 px at 150, at
/// most 16 px.
pub fn column_width(per_row: usize) -> f64 {
    (ROW_WIDTH / per_row.max(1) as f64).clamp(3.0, 16.0)
}

/// The logo of `a`, attributed by `method` for the target described as `target`.
pub fn logo(a: &Attribution, method: Method, target: &str) -> String {
    let n = a.seq.len();
    let (n_rows, per_row) = rows(n);
    let w = column_width(per_row);
    let plot = if n_rows == 1 { PLOT_SINGLE } else { PLOT_ROW };
    let width = LEFT + w * per_row as f64 + RIGHT;
    let height = TOP + n_rows as f64 * (plot + ROW_GAP) + BOTTOM;
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    // One scale for every row, so that heights compare across the whole sequence.
    let hi = a.importance.iter().map(|&v| finite(v)).fold(0.0, f64::max);
    let lo = a.importance.iter().map(|&v| finite(v)).fold(0.0, f64::min);
    let span = if hi - lo > 0.0 { hi - lo } else { 1.0 };
    let unit = plot / span; // px per unit of importance

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    s.push_str("<defs>\n");
    for (base, colour, path) in GLYPHS {
        let fill_rule = if base == b'A' { "evenodd" } else { "nonzero" };
        let _ = writeln!(
            s,
            r#"<path id="glyph-{}" d="{path}" fill="{colour}" fill-rule="{fill_rule}"/>"#,
            base as char
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);

    // Title: id, then method, target and score.
    let method_name = match method {
        Method::Ism => "ISM (in-silico mutagenesis)",
        Method::Saliency => "saliency (gradient × input)",
    };
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="16" font-weight="bold">{}</text>"#,
        escape(&a.id)
    );
    let _ = writeln!(
        s,
        r##"<text x="{LEFT}" y="42" font-size="12" fill="#333">{} · target: {} · reference score {:.4} · {n} bp</text>"##,
        method_name,
        escape(target),
        a.score
    );
    let y_label = match method {
        Method::Ism => "importance (−mean Δ score)",
        Method::Saliency => "gradient × input",
    };
    let rows_bottom = TOP + n_rows as f64 * (plot + ROW_GAP) - ROW_GAP;
    let _ = writeln!(
        s,
        r##"<text transform="translate(18 {:.1}) rotate(-90)" font-size="12" fill="#333" text-anchor="middle">{y_label}</text>"##,
        (TOP + rows_bottom) / 2.0
    );
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#333" text-anchor="middle">position</text>"##,
        LEFT + w * per_row as f64 / 2.0,
        rows_bottom + ROW_GAP + 6.0
    );

    let step = position_step(per_row);
    let gap = if w >= 6.0 { 0.06 * w } else { 0.0 };
    for row in 0..n_rows {
        let start = row * per_row;
        let end = n.min(start + per_row);
        let top = TOP + row as f64 * (plot + ROW_GAP);
        let bottom = top + plot;
        let baseline = top + hi * unit;
        let x0 = LEFT;
        let x1 = LEFT + w * (end - start) as f64;

        // Axes: importance on the left, positions below, the baseline.
        let _ = writeln!(
            s,
            r##"<g stroke="#444" stroke-width="1" fill="none"><line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}"/><line x1="{x0}" y1="{bottom}" x2="{x1:.2}" y2="{bottom}"/></g>"##
        );
        s.push_str(r##"<g font-size="11" fill="#333">"##);
        s.push('\n');
        for v in ticks(lo, hi, if n_rows == 1 { 5 } else { 3 }) {
            let y = baseline - v * unit;
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{y:.2}" x2="{x0}" y2="{y:.2}" stroke="#444"/><text x="{:.1}" y="{:.2}" text-anchor="end">{}</text>"##,
                x0 - 5.0,
                x0 - 8.0,
                y + 4.0,
                label(v)
            );
        }
        for p in position_ticks(start, end, step) {
            let x = LEFT + (p - start) as f64 * w - w / 2.0;
            let _ = writeln!(
                s,
                r##"<line x1="{x:.2}" y1="{bottom}" x2="{x:.2}" y2="{:.1}" stroke="#444"/><text x="{x:.2}" y="{:.1}" text-anchor="middle">{p}</text>"##,
                bottom + 5.0,
                bottom + 18.0
            );
        }
        s.push_str("</g>\n");
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{baseline:.2}" x2="{x1:.2}" y2="{baseline:.2}" stroke="#999" stroke-width="0.75"/>"##
        );

        // Letters: one per position, the reference base.
        s.push_str("<g class=\"letters\">\n");
        for i in start..end {
            let v = finite(a.importance[i]);
            let base = a.seq[i];
            let glyph = if b"ACGT".contains(&base) { base } else { b'N' };
            let x = LEFT + (i - start) as f64 * w + gap;
            let h = v.abs() * unit;
            // Negative values hang below the baseline, upside down.
            let (y, sy) = if v >= 0.0 {
                (baseline - h, h)
            } else {
                (baseline + h, -h)
            };
            let _ = writeln!(
                s,
                r##"<use href="#glyph-{g}" xlink:href="#glyph-{g}" transform="translate({x:.3} {y:.3}) scale({sx:.3} {sy:.4})"><title>{p} {g} {v:.4}</title></use>"##,
                g = glyph as char,
                sx = w - 2.0 * gap,
                p = i + 1,
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// Text safe inside an XML element or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A "nice" step (1, 2 or 5 × 10^k) giving about `n` intervals over `span`.
fn nice_step(span: f64, n: usize) -> f64 {
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Tick values in `lo..=hi` (0 included), about `n` intervals.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi - lo <= 0.0 || (hi - lo).is_nan() {
        return vec![0.0];
    }
    let step = nice_step(hi - lo, n);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Tick label: few digits, no `-0`.
fn label(v: f64) -> String {
    if v.abs() < 1e-12 {
        return "0".into();
    }
    let digits = if v.abs() >= 10.0 {
        0
    } else if v.abs() >= 1.0 {
        1
    } else {
        (2.0 - v.abs().log10().floor()).clamp(2.0, 6.0) as usize
    };
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Distance between position ticks: a nice step giving about 10 ticks a row.
fn position_step(per_row: usize) -> usize {
    (nice_step(per_row as f64, 10).round() as usize).max(1)
}

/// 1-based positions to mark on the row of 0-based positions `start..end`: its first
/// position, then the multiples of `step` (none closer than half a step to the first).
fn position_ticks(start: usize, end: usize, step: usize) -> Vec<usize> {
    if end <= start {
        return Vec::new();
    }
    let first = start + 1;
    let mut v = vec![first];
    v.extend(
        (first.div_ceil(step)..=end / step)
            .map(|k| k * step)
            .filter(|&p| p > first && 2 * (p - first) >= step),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(position_step(100), 10);
        assert_eq!(position_ticks(0, 100, 10)[..3], [1, 10, 20]);
        assert_eq!(*position_ticks(0, 100, 10).last().unwrap(), 100);
        assert_eq!(position_ticks(0, 3, position_step(3)), vec![1, 2, 3]);
        // A wrapped row starts with its first position; 160 is too close to 151 for a label.
        assert_eq!(position_step(150), 20);
        assert_eq!(position_ticks(150, 300, 20)[..3], [151, 180, 200]);
        assert_eq!(
            (rows(100), rows(200), rows(600), rows(201)),
            ((1, 100), (1, 200), (4, 150), (2, 101))
        );
        assert_eq!(ticks(-0.3, 1.2, 5), vec![0.0, 0.5, 1.0]);
        assert_eq!(ticks(-1.0, 0.2, 5), vec![-1.0, -0.5, 0.0]);
        let labels: Vec<String> = ticks(-0.05, 0.37, 5).into_iter().map(label).collect();
        assert_eq!(labels, ["0", "0.1", "0.2", "0.3"]);
        assert_eq!(ticks(0.0, 0.0, 5), vec![0.0]);
        assert_eq!(label(0.2), "0.2");
        assert_eq!(label(-0.05), "-0.05");
        assert_eq!(label(1.5), "1.5");
        assert_eq!(label(12.0), "12");
        assert_eq!(escape("a<b&\"c'"), "a&lt;b&amp;&quot;c&apos;");
    }
}
