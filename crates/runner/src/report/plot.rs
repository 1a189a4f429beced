//! Small hand-written SVG charts (loss and learning curves, ROC and precision-recall curves,
//! predicted-vs-true scatters), no plotting crate: the output is one self-contained `<svg>`
//! element that `strand report --format html` inlines and `strand pretrain` writes as a file.

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

/// One curve of a [`Chart`]: its points, colour (index into the palette), line style, and
/// whether it gets a legend entry (seeds of one class share a colour and one entry).
#[derive(Clone)]
pub struct Curve<'a> {
    pub name: String,
    pub points: &'a [(f64, f64)],
    pub color: usize,
    pub dashed: bool,
    /// Dots instead of a line (a scatter plot).
    pub dots: bool,
    pub legend: bool,
}

/// Where the legend sits inside the plotting area.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Legend {
    TopRight,
    BottomRight,
}

/// A plot of [`Curve`]s against shared axes: ranges fixed or fitted to the data, an optional
/// `y = x` reference line, the y axis logarithmic when `log_y`.
pub struct Chart<'a> {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_y: bool,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    /// A dashed grey `y = x` line (ROC chance line, perfect predictions on a scatter).
    pub diagonal: bool,
    pub legend: Legend,
    pub curves: Vec<Curve<'a>>,
    pub width: f64,
    pub height: f64,
}

impl<'a> Chart<'a> {
    /// A chart of the default size with fitted axes and no curves.
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Self {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_y: false,
            x_range: None,
            y_range: None,
            diagonal: false,
            legend: Legend::TopRight,
            curves: Vec::new(),
            width: W,
            height: H,
        }
    }

    /// Adds a solid line with a legend entry in colour `color`.
    pub fn line(mut self, name: &str, points: &'a [(f64, f64)], color: usize) -> Self {
        self.curves.push(Curve {
            name: name.into(),
            points,
            color,
            dashed: false,
            dots: false,
            legend: true,
        });
        self
    }

    /// The SVG document. Non-finite points (and non-positive ones on a log axis) are skipped.
    pub fn svg(&self) -> String {
        let (w, h, log_y) = (self.width, self.height, self.log_y);
        let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite() && (!log_y || p.1 > 0.0);
        let fy = |y: f64| if log_y { y.log10() } else { y };
        let all: Vec<(f64, f64)> = self
            .curves
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
        if let Some((a, b)) = self.x_range {
            (x0, x1) = (a, b);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let (y0, y1) = match self.y_range {
            Some((a, b)) => (fy(a), fy(b)),
            None => {
                let pad = (y1 - y0) * 0.05;
                (y0 - pad, y1 + pad)
            }
        };
        let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * (w - LEFT - RIGHT);
        let sy = |y: f64| h - BOTTOM - (fy(y) - y0) / (y1 - y0) * (h - TOP - BOTTOM);

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>"#,
            w / 2.0,
            escape(&self.title)
        );
        // Axes and grid.
        for t in ticks(x0, x1) {
            let x = sx(t);
            let _ = writeln!(
                svg,
                r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                TOP,
                h - BOTTOM,
                h - BOTTOM + 16.0,
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
                w - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                fmt_tick(t)
            );
        }
        let _ = writeln!(
            svg,
            r#"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#,
            w - LEFT - RIGHT,
            h - TOP - BOTTOM
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (LEFT + w - RIGHT) / 2.0,
            h - 12.0,
            escape(&self.x_label)
        );
        let _ = writeln!(
            svg,
            r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
            (TOP + h - BOTTOM) / 2.0,
            (TOP + h - BOTTOM) / 2.0,
            escape(&self.y_label)
        );
        if self.diagonal {
            let lo = x0.max(if log_y { 10f64.powf(y0) } else { y0 });
            let hi = x1.min(if log_y { 10f64.powf(y1) } else { y1 });
            if hi > lo {
                let _ = writeln!(
                    svg,
                    r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 4"/>"##,
                    sx(lo),
                    sy(lo),
                    sx(hi),
                    sy(hi)
                );
            }
        }
        // Curves, then the legend over them.
        for c in &self.curves {
            let color = COLORS[c.color % COLORS.len()];
            let pts = c.points.iter().filter(finite);
            if c.dots {
                svg.push_str(&format!(r#"<g fill="{color}" fill-opacity="0.45">"#));
                for &(x, y) in pts {
                    let _ = write!(
                        svg,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2"/>"#,
                        sx(x),
                        sy(y)
                    );
                }
                svg.push_str("</g>\n");
            } else {
                let pts: Vec<String> = pts
                    .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                    .collect();
                let dash = if c.dashed {
                    r#" stroke-dasharray="6 3""#
                } else {
                    ""
                };
                let _ = writeln!(
                    svg,
                    r#"<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash} points="{}"/>"#,
                    pts.join(" ")
                );
            }
        }
        let entries: Vec<&Curve> = self.curves.iter().filter(|c| c.legend).collect();
        let lx = w - RIGHT - 190.0;
        let top = match self.legend {
            Legend::TopRight => TOP + 8.0,
            Legend::BottomRight => h - BOTTOM - 8.0 - 16.0 * entries.len() as f64,
        };
        if !entries.is_empty() {
            let _ = writeln!(
                svg,
                r#"<rect x="{:.1}" y="{top:.1}" width="184" height="{:.1}" fill="white" fill-opacity="0.85"/>"#,
                lx - 4.0,
                16.0 * entries.len() as f64 + 4.0
            );
        }
        for (i, c) in entries.iter().enumerate() {
            let color = COLORS[c.color % COLORS.len()];
            let ly = top + 16.0 + 16.0 * i as f64;
            let dash = if c.dashed {
                r#" stroke-dasharray="6 3""#
            } else {
                ""
            };
            let _ = writeln!(
                svg,
                r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
                ly - 4.0,
                lx + 20.0,
                ly - 4.0,
                lx + 26.0,
                ly,
                escape(&c.name)
            );
        }
        svg.push_str("</svg>\n");
        svg
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
    let mut chart = Chart::new(title, x_label, y_label);
    chart.log_y = log_y;
    for (i, s) in series.iter().enumerate() {
        chart = chart.line(s.name, s.points, i);
    }
    chart.svg()
}

/// At most `max` points of a curve: every k-th, always keeping the first and the last.
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max.max(2) {
        return points.to_vec();
    }
    let step = points.len().div_ceil(max.max(2) - 1);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if let (Some(last), Some(kept)) = (points.last(), out.last())
        && kept != last
    {
        out.push(*last);
    }
    out
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
    fn chart_with_fixed_ranges_dots_diagonal_and_shared_legend() {
        let a = [(0.0, 0.0), (0.5, 1.0), (1.0, 1.0)];
        let mut c = Chart::new("roc", "fpr", "tpr");
        c.x_range = Some((0.0, 1.0));
        c.y_range = Some((0.0, 1.0));
        c.diagonal = true;
        c.legend = Legend::BottomRight;
        c = c.line("seed 0", &a, 0);
        c.curves.push(Curve {
            name: "seed 1".into(),
            points: &a,
            color: 0,
            dashed: true,
            dots: true,
            legend: false,
        });
        let svg = c.svg();
        // The diagonal from (0,0) to (1,1): left-bottom to right-top corner of the plot area.
        assert!(
            svg.contains(r##"x1="60.0" y1="350.0" x2="620.0" y2="40.0" stroke="#999""##),
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches(">seed ").count(), 1, "one legend entry");
        // (0.5, 1.0) lies at the middle of the x axis and the top of the y axis.
        assert!(svg.contains("340.0,40.0"), "{svg}");
    }

    #[test]
    fn thin_keeps_the_ends_and_caps_the_count() {
        let p: Vec<(f64, f64)> = (0..1001).map(|i| (i as f64, 0.0)).collect();
        let t = thin(&p, 100);
        assert!(t.len() <= 101, "{}", t.len());
        assert_eq!(t.first(), p.first());
        assert_eq!(t.last(), p.last());
        assert_eq!(thin(&p[..5], 100).len(), 5);
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
