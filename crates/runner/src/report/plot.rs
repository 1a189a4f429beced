//! A small hand-written SVG line plot (loss curves), no plotting crate.

use std::fmt::Write;

/// One named curve of `(x, y)` points.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64)],
}

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// "Nice" tick values covering `[lo, hi]` (about five).
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil();
    (0..)
        .map(|i| (first + i as f64) * step)
        .take_while(|t| *t <= hi + step * 1e-9)
        .map(|t| if t.abs() < step * 1e-9 { 0.0 } else { t })
        .collect()
}

/// Tick values `{1, 2, 5} · 10^d` within `[lo, hi]` (both > 0), for a log axis.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    for d in (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let t = m * 10f64.powi(d);
            if t >= lo && t <= hi {
                out.push(t);
            }
        }
    }
    out
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// An SVG document plotting `series` against shared axes, the y axis logarithmic when `log_y`.
/// Non-finite points (and non-positive ones on a log axis) are skipped.
pub fn line_plot(
    title: &str,
    x_label: &str,
    y_label: &str,
    log_y: bool,
    series: &[Series<'_>],
) -> String {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0);
    let fy = |y: f64| if log_y { y.log10() } else { y };
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).copied())
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = all.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(fy(y)), d.max(fy(y))),
    );
    if all.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        y1 = y0 + 1.0;
    }
    let pad = (y1 - y0) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let sy = |y: f64| H - BOTTOM - (fy(y) - y0) / (y1 - y0) * (H - TOP - BOTTOM);

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        W / 2.0,
        escape(title)
    );
    // Axes and grid.
    for t in ticks(x0, x1) {
        let x = sx(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP,
            H - BOTTOM,
            H - BOTTOM + 16.0,
            fmt_tick(t)
        );
    }
    let y_ticks = if log_y {
        log_ticks(10f64.powf(y0), 10f64.powf(y1))
    } else {
        ticks(y0, y1)
    };
    for t in y_ticks {
        let y = sy(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let _ = writeln!(
        svg,
        r#"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#,
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0,
        escape(x_label)
    );
    let _ = writeln!(
        svg,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0,
        escape(y_label)
    );
    // Curves and legend.
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(finite)
            .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            pts.join(" ")
        );
        let ly = TOP + 16.0 + 16.0 * i as f64;
        let lx = W - RIGHT - 170.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            ly - 4.0,
            lx + 20.0,
            ly - 4.0,
            lx + 26.0,
            ly,
            escape(s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Moving average over `window` points (for noisy per-step losses).
pub fn smooth(points: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    let window = window.max(1);
    (0..points.len())
        .map(|i| {
            let lo = i.saturating_sub(window - 1);
            let ys = &points[lo..=i];
            (
                points[i].0,
                ys.iter().map(|p| p.1).sum::<f64>() / ys.len() as f64,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_contains_curves_axes_and_escaped_names() {
        let a = [(1.0, 5.0), (2.0, 4.0), (3.0, f64::NAN), (4.0, 2.0)];
        let b = [(1.0, 6.0), (4.0, 3.0)];
        let svg = line_plot(
            "loss <train>",
            "step",
            "loss",
            false,
            &[
                Series {
                    name: "a&b",
                    points: &a,
                },
                Series {
                    name: "c",
                    points: &b,
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a&amp;b") && svg.contains("loss &lt;train&gt;"));
        // NaN point skipped: the first polyline has 3 points.
        let first = svg.split("points=\"").nth(1).unwrap();
        let pts = first.split('"').next().unwrap();
        assert_eq!(pts.split(' ').count(), 3);
        // x = 1 maps to the left edge, x = 4 to the right edge.
        assert!(pts.starts_with("60.0,"));
        assert!(pts.split(' ').next_back().unwrap().starts_with("620.0,"));
    }

    #[test]
    fn log_axis_skips_non_positive_points() {
        let a = [(1.0, 40.0), (2.0, 0.0), (3.0, 1.5)];
        let svg = line_plot(
            "t",
            "x",
            "y",
            true,
            &[Series {
                name: "a",
                points: &a,
            }],
        );
        let pts = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(pts.split(' ').count(), 2);
        assert_eq!(log_ticks(1.4, 45.0), vec![2.0, 5.0, 10.0, 20.0]);
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(-0.1, 0.25), vec![-0.1, 0.0, 0.1, 0.2]);
        assert_eq!(ticks(0.0, 300.0), vec![0.0, 100.0, 200.0, 300.0]);
        let t = ticks(1.37, 8.2);
        assert_eq!(t.first().copied(), Some(2.0));
        assert_eq!(t.last().copied(), Some(8.0));
    }

    #[test]
    fn smoothing_averages_trailing_window() {
        let p = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)];
        assert_eq!(smooth(&p, 2), vec![(0.0, 1.0), (1.0, 2.0), (2.0, 4.0)]);
    }
}
