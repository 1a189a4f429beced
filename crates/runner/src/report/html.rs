//! `strand report --format html`: one self-contained HTML page (no script, no external asset:
//! styles inline, charts as inline SVG from [`super::plot`]) that a browser opens from disk.
//!
//! The page holds the score table of [`super::rows`] (ours next to the task card's published
//! figures, each split marked; GUANinE's `valid` split is its `dev`), then one section per task
//! and, within it, one per group of runs (model, tokenizer, head) with: the GUANinE catalogue's
//! test-split scores around ours when `--catalogue` is given (ranked, no Δ: ours are dev
//! scores); learning curves (train and validation loss, the validation selection metric, per
//! epoch, one colour per run); for classification ROC and precision-recall curves (one-vs-rest
//! per class for more than two classes) and a confusion matrix per run; for regression and
//! ordinal tasks a predicted-vs-true scatter with Spearman ρ; and each run's
//! `config.resolved.toml` behind a `<details>`. Curves and matrices come from the run's
//! outputs file ([`crate::run::outputs`]); a run without one gets a line saying so. Every text
//! from a file is escaped.

use super::catalogue::Catalogue;
use super::curves;
use super::details::RunDetails;
use super::plot::{Chart, Curve, Legend, thin};
use super::{GroupKey, Row, RunScores};
use crate::run::outputs::Outputs;
use anyhow::Result;
use std::fmt::Write as _;
use strand_data::LabelKind;

/// Chart size inside the page.
const CHART_W: f64 = 520.0;
const CHART_H: f64 = 360.0;
/// Most points drawn per curve, and per run on a scatter (areas and ρ use every record).
const MAX_CURVE_POINTS: usize = 800;
const MAX_SCATTER_POINTS: usize = 2500;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:1em 2em;color:#1d2329;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}.meta{color:#57606a}
table{border-collapse:collapse;margin:.6em 0;font-size:14px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.ours td{background:#fff4d6;font-weight:600}
.split{display:inline-block;border-radius:3px;padding:0 5px;font-size:12px;font-weight:600;color:#fff}
.split.test{background:#2f6f9f}.split.dev,.split.valid{background:#b35c00}.split.other{background:#666}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts figure{margin:0}
figcaption{font-size:13px;color:#57606a;max-width:520px}
svg{max-width:100%;height:auto;border:1px solid #eee}
details{margin:.3em 0}summary{cursor:pointer}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}
.cm td{text-align:right;min-width:3em}.note{color:#57606a;font-size:14px}
nav a{margin-right:1em}
";

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An `id` attribute made from `s`: letters and digits kept, the rest `-`.
fn anchor(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// GUANinE names its validation split `dev`.
fn split_name(task: &str, split: &str) -> String {
    if task.starts_with("guanine/") && split == "valid" {
        "dev".into()
    } else {
        split.into()
    }
}

/// A coloured badge for a split.
fn badge(task: &str, split: &str) -> String {
    let name = split_name(task, split);
    let class = match name.as_str() {
        "test" | "dev" | "valid" => name.as_str(),
        _ => "other",
    };
    format!(r#"<span class="split {class}">{}</span>"#, esc(&name))
}

/// A short label of a run within its group: seed, and fold when there is one.
fn run_label(r: &RunScores) -> String {
    match r.scores.fold {
        Some((k, n)) => format!("seed {} fold {}/{n}", r.scores.seed, k + 1),
        None => format!("seed {}", r.scores.seed),
    }
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else {
        format!("{v:.4}")
    }
}

/// The page for `runs`, with the GUANinE `catalogue` when given.
pub fn html(runs: &[RunScores], catalogue: Option<&Catalogue>) -> Result<String> {
    let rows = super::rows(runs);
    let details: Vec<RunDetails> = runs.iter().map(RunDetails::load).collect::<Result<_>>()?;
    let groups = super::groups(runs);
    let mut tasks: Vec<&str> = Vec::new();
    for (k, _) in &groups {
        if !tasks.contains(&k.task.as_str()) {
            tasks.push(&k.task);
        }
    }
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        s,
        "<title>strand report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        esc(&tasks.join(", "))
    );
    let _ = writeln!(
        s,
        "<h1>strand report</h1>\n<p class=\"meta\">{} run{} of {} task{}, strand {}. \
         Split marks: {} held-out test split, {} validation split (GUANinE: dev).</p>",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        tasks.len(),
        if tasks.len() == 1 { "" } else { "s" },
        esc(env!("CARGO_PKG_VERSION")),
        badge("", "test"),
        badge("", "valid"),
    );
    s.push_str("<nav><a href=\"#scores\">Scores</a>");
    for t in &tasks {
        let _ = write!(s, "<a href=\"#task-{}\">{}</a>", anchor(t), esc(t));
    }
    s.push_str("</nav>\n");
    score_table(&mut s, &rows);
    let notes = super::notes(runs, &rows);
    if !notes.is_empty() {
        s.push_str("<ul class=\"note\">\n");
        for n in &notes {
            let _ = writeln!(s, "<li>{}</li>", esc(n.trim_start_matches("- ")));
        }
        s.push_str("</ul>\n");
    }
    for task in &tasks {
        let _ = writeln!(
            s,
            "<section id=\"task-{}\">\n<h2>{}</h2>",
            anchor(task),
            esc(task)
        );
        if let Some(c) = catalogue {
            catalogue_table(&mut s, c, task, &rows);
        }
        for (key, members) in groups.iter().filter(|(k, _)| k.task == *task) {
            group_section(&mut s, key, members, runs, &details);
        }
        s.push_str("</section>\n");
    }
    s.push_str("</body>\n</html>\n");
    Ok(s)
}

/// The table of [`super::rows`], with split badges.
fn score_table(s: &mut String, rows: &[Row]) {
    s.push_str(
        "<section id=\"scores\">\n<h2>Scores</h2>\n<table>\n<tr><th>task</th><th>model</th>\
         <th>tokenizer</th><th>head</th><th>split</th><th>metric</th>\
         <th>ours (mean ± sd, n)</th><th>published</th><th>Δ</th></tr>\n",
    );
    for r in rows {
        let ours = match r.sd {
            _ if r.mean.is_nan() => format!("n/a (n={})", r.n),
            Some(sd) => format!("{:.4} ± {sd:.4} (n={})", r.mean, r.n),
            None => format!("{:.4} (n={})", r.mean, r.n),
        };
        let published = match (&r.published, &r.published_split) {
            (Some((m, v)), ps) => {
                let mut p = format!(
                    "{v:.4} {} <small>{}</small>",
                    ps.as_deref()
                        .map(|ps| badge(&r.task, ps))
                        .unwrap_or_default(),
                    esc(m)
                );
                if let Some((theirs, ours)) = r.published_records {
                    let _ = write!(
                        p,
                        " <small>(full data set: {theirs} test records, ours {ours})</small>"
                    );
                }
                p
            }
            (None, _) => "—".into(),
        };
        let delta = r.delta.map_or("—".to_string(), |d| format!("{d:+.4}"));
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{ours}</td><td>{published}</td><td class=\"num\">{delta}</td></tr>",
            esc(&r.task),
            esc(&r.model),
            esc(&r.tokenizer),
            esc(&r.head),
            badge(&r.task, &r.split),
            esc(&r.metric),
        );
    }
    s.push_str("</table>\n</section>\n");
}

/// The catalogue's models for `task` (each metric with a column), ranked, with our rows placed
/// by value and marked by their split: context, not a comparison.
fn catalogue_table(s: &mut String, c: &Catalogue, task: &str, rows: &[Row]) {
    let mut metrics: Vec<&str> = Vec::new();
    for r in rows.iter().filter(|r| r.task == task) {
        if c.column(task, &r.metric).is_some() && !metrics.contains(&r.metric.as_str()) {
            metrics.push(&r.metric);
        }
    }
    for metric in metrics {
        let mut lines: Vec<(f64, String, bool)> = c
            .entries(task, metric)
            .into_iter()
            .map(|e| (e.value, esc(&e.model), false))
            .collect();
        for r in rows.iter().filter(|r| r.task == task && r.metric == metric) {
            lines.push((
                r.mean,
                format!(
                    "strand: {} · {} · {} (n={})",
                    esc(&r.model),
                    esc(&r.tokenizer),
                    esc(&r.head),
                    r.n
                ),
                true,
            ));
        }
        lines.sort_by(|a, b| b.0.total_cmp(&a.0));
        let _ = writeln!(
            s,
            "<h3>GUANinE catalogue: {}</h3>\n<p class=\"note\">Published scores are on the \
             {} split (private labels); strand's are on {}: shown side by side for \
             orientation, not comparable, so no Δ.</p>\n<table>\n<tr><th>rank</th><th>model\
             </th><th>split</th><th>{}</th></tr>",
            esc(metric),
            badge(task, "test"),
            badge(task, "valid"),
            esc(metric)
        );
        for (i, (v, model, ours)) in lines.iter().enumerate() {
            let _ = writeln!(
                s,
                "<tr{}><td class=\"num\">{}</td><td>{model}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                if *ours { " class=\"ours\"" } else { "" },
                i + 1,
                badge(task, if *ours { "valid" } else { "test" }),
                fmt_value(*v)
            );
        }
        s.push_str("</table>\n");
    }
}

/// How the outputs of a group are drawn.
enum Kind {
    Classes,
    /// Ordinal levels or real values: a scatter of (true, predicted).
    Continuous,
}

fn kind_of(task: &str, out: &Outputs) -> Kind {
    let card_kind = strand_data::registry::card(task)
        .ok()
        .map(|c| c.labels.clone());
    match (card_kind, out.classes.is_empty()) {
        (_, true) | (Some(LabelKind::Ordinal { .. }), _) => Kind::Continuous,
        _ => Kind::Classes,
    }
}

/// One group's charts and runs.
fn group_section(
    s: &mut String,
    key: &GroupKey,
    members: &[usize],
    runs: &[RunScores],
    details: &[RunDetails],
) {
    let _ = writeln!(
        s,
        "<h3>{} · {} · head {}</h3>",
        esc(&key.model),
        esc(&key.tokenizer),
        esc(&key.head)
    );
    s.push_str("<div class=\"charts\">\n");
    learning_curves(s, members, runs, details);
    let with_outputs: Vec<(usize, &Outputs)> = members
        .iter()
        .filter_map(|&i| details[i].outputs.as_ref().map(|(_, o)| (i, o)))
        .collect();
    if let Some((_, o)) = with_outputs.first() {
        match kind_of(&key.task, o) {
            Kind::Classes => classification(s, &with_outputs, runs),
            Kind::Continuous => scatter(s, &with_outputs, runs),
        }
    }
    s.push_str("</div>\n");
    if with_outputs.len() < members.len() {
        let _ = writeln!(
            s,
            "<p class=\"note\">{} of {} runs have no per-record outputs file (outputs.&lt;split&gt;.tsv, \
             written by this strand's <code>strand train</code> and <code>strand eval</code>): \
             no ROC, precision-recall or scatter for them.</p>",
            members.len() - with_outputs.len(),
            members.len()
        );
    }
    if with_outputs
        .first()
        .is_some_and(|(_, o)| matches!(kind_of(&key.task, o), Kind::Classes))
    {
        confusion_matrices(s, &with_outputs, runs);
    }
    s.push_str("<h4>Runs</h4>\n");
    for &i in members {
        let r = &runs[i];
        let sc = &r.scores;
        let _ = write!(
            s,
            "<details><summary>{} — <code>{}</code>: best epoch {} of {}, selected on {}</summary>",
            esc(&run_label(r)),
            esc(&r.dir.display().to_string()),
            sc.best_epoch,
            sc.epochs_trained.unwrap_or(sc.epochs),
            esc(&sc.selection_metric)
        );
        match &details[i].config {
            Some(c) => {
                let _ = write!(
                    s,
                    "<p class=\"note\">{}</p><pre>{}</pre>",
                    esc(&sc.config),
                    esc(c)
                );
            }
            None => {
                let _ = write!(s, "<p class=\"note\">no {} in the run</p>", esc(&sc.config));
            }
        }
        s.push_str("</details>\n");
    }
}

/// `<figure>` with an SVG and a caption.
fn figure(s: &mut String, svg: &str, caption: &str) {
    let _ = writeln!(
        s,
        "<figure>{svg}<figcaption>{caption}</figcaption></figure>"
    );
}

fn sized<'a>(mut c: Chart<'a>) -> Chart<'a> {
    c.width = CHART_W;
    c.height = CHART_H;
    c
}

/// Train and validation loss per epoch; the validation selection metric per epoch.
fn learning_curves(s: &mut String, members: &[usize], runs: &[RunScores], details: &[RunDetails]) {
    let epoch_points = |i: usize, f: &dyn Fn(&crate::engine::log::EpochLine) -> Option<f64>| {
        details[i]
            .epochs
            .iter()
            .filter_map(|e| Some((e.epoch as f64, f(e)?)))
            .collect::<Vec<_>>()
    };
    let train: Vec<Vec<(f64, f64)>> = members
        .iter()
        .map(|&i| epoch_points(i, &|e| Some(e.train_loss)))
        .collect();
    let valid: Vec<Vec<(f64, f64)>> = members
        .iter()
        .map(|&i| epoch_points(i, &|e| e.valid.get("loss").copied()))
        .collect();
    if train.iter().all(Vec::is_empty) {
        s.push_str("<p class=\"note\">No epoch lines in metrics.jsonl: no learning curves.</p>\n");
        return;
    }
    let mut c = sized(Chart::new(
        "Loss per epoch (solid: train, dashed: validation)",
        "epoch",
        "loss",
    ));
    for (k, &i) in members.iter().enumerate() {
        c = c.line(&run_label(&runs[i]), &train[k], k);
        if !valid[k].is_empty() {
            c.curves.push(Curve {
                name: String::new(),
                points: &valid[k],
                color: k,
                dashed: true,
                dots: false,
                legend: false,
            });
        }
    }
    figure(
        s,
        &c.svg(),
        "Mean training loss of each epoch (solid) and validation loss after it (dashed), one \
         colour per run.",
    );
    let selection = &runs[members[0]].scores.selection_metric;
    let metric: Vec<Vec<(f64, f64)>> = members
        .iter()
        .map(|&i| epoch_points(i, &|e| e.valid.get(selection.as_str()).copied()))
        .collect();
    if metric.iter().all(Vec::is_empty) {
        return;
    }
    let mut c = sized(Chart::new(
        &format!("Validation {selection} per epoch"),
        "epoch",
        selection,
    ));
    c.legend = Legend::BottomRight;
    for (k, &i) in members.iter().enumerate() {
        c = c.line(&run_label(&runs[i]), &metric[k], k);
    }
    let best: Vec<String> = members
        .iter()
        .map(|&i| {
            format!(
                "{}: epoch {}",
                esc(&run_label(&runs[i])),
                runs[i].scores.best_epoch
            )
        })
        .collect();
    figure(
        s,
        &c.svg(),
        &format!(
            "The selection metric on the validation split; best epochs (weights kept): {}.",
            best.join(", ")
        ),
    );
}

/// Probabilities of class `k` and whether each labelled record is of class `k`.
fn one_vs_rest(o: &Outputs, k: usize) -> (Vec<f64>, Vec<bool>) {
    o.labels
        .iter()
        .zip(&o.values)
        .filter_map(|(l, v)| Some((v[k], (*l)? == k as f64)))
        .unzip()
}

/// Points of a drawn curve.
type Points = Vec<(f64, f64)>;

/// One run's one-vs-rest curves of a class: (run position, class, ROC, precision-recall).
type ClassCurves = (usize, usize, Option<curves::Curve>, Option<curves::Curve>);

/// ROC and precision-recall curves, seeds overlaid; one-vs-rest per class beyond two classes.
fn classification(s: &mut String, with: &[(usize, &Outputs)], runs: &[RunScores]) {
    let n_classes = with[0].1.classes.len();
    let classes: Vec<usize> = if n_classes == 2 {
        vec![1]
    } else {
        (0..n_classes).collect()
    };
    let names = &with[0].1.classes;
    // (run position, class, roc, pr)
    let mut all = Vec::new();
    for (pos, (_, o)) in with.iter().enumerate() {
        for &k in &classes {
            let (scores, positive) = one_vs_rest(o, k);
            all.push((
                pos,
                k,
                curves::roc(&scores, &positive),
                curves::precision_recall(&scores, &positive),
            ));
        }
    }
    let thinned: Vec<(Points, Points)> = all
        .iter()
        .map(|(_, _, r, p)| {
            (
                r.as_ref()
                    .map_or(Vec::new(), |c| thin(&c.points, MAX_CURVE_POINTS)),
                p.as_ref()
                    .map_or(Vec::new(), |c| thin(&c.points, MAX_CURVE_POINTS)),
            )
        })
        .collect();
    let binary = n_classes == 2;
    let what = if binary {
        format!("class {} positive", names[1])
    } else {
        "one-vs-rest".to_string()
    };
    let mut roc = sized(Chart::new(
        &format!("ROC ({what})"),
        "false positive rate",
        "true positive rate",
    ));
    let mut pr = sized(Chart::new(
        &format!("Precision-recall ({what})"),
        "recall",
        "precision",
    ));
    for c in [&mut roc, &mut pr] {
        c.x_range = Some((0.0, 1.0));
        c.y_range = Some((0.0, 1.0));
    }
    roc.diagonal = true;
    roc.legend = Legend::BottomRight;
    pr.legend = Legend::BottomRight;
    let area = |v: &Option<curves::Curve>| v.as_ref().map_or(f64::NAN, |c| c.area);
    for (j, (pos, k, r, p)) in all.iter().enumerate() {
        // Binary: a colour per run. More classes: a colour per class, runs dashed after the first.
        let (color, legend, dashed, name) = if binary {
            let l = run_label(&runs[with[*pos].0]);
            (
                *pos,
                true,
                false,
                (
                    format!("{l}: AUC {:.3}", area(r)),
                    format!("{l}: AP {:.3}", area(p)),
                ),
            )
        } else {
            let mean = |f: &dyn Fn(&ClassCurves) -> f64| {
                let v: Vec<f64> = all.iter().filter(|c| c.1 == *k).map(f).collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            (
                *k,
                *pos == 0,
                *pos > 0,
                (
                    format!("{}: AUC {:.3}", names[*k], mean(&|c| area(&c.2))),
                    format!("{}: AP {:.3}", names[*k], mean(&|c| area(&c.3))),
                ),
            )
        };
        roc.curves.push(Curve {
            name: name.0,
            points: &thinned[j].0,
            color,
            dashed,
            dots: false,
            legend,
        });
        pr.curves.push(Curve {
            name: name.1,
            points: &thinned[j].1,
            color,
            dashed,
            dots: false,
            legend,
        });
    }
    // Per run: our AUROC (binary, or the macro mean over classes) next to scores.json's.
    let per_run: Vec<String> = with
        .iter()
        .enumerate()
        .map(|(pos, (i, _))| {
            let aucs: Vec<f64> = all
                .iter()
                .filter(|c| c.0 == pos)
                .map(|c| area(&c.2))
                .collect();
            let ours = aucs.iter().sum::<f64>() / aucs.len() as f64;
            let sc = &runs[*i].scores;
            let stored = sc
                .splits
                .get(&sc.eval_split)
                .and_then(|m| m.get("auroc"))
                .map_or(String::new(), |v| {
                    format!(" (scores.json: {})", fmt_value(*v))
                });
            format!("{} {}{stored}", esc(&run_label(&runs[*i])), fmt_value(ours))
        })
        .collect();
    let legend_note = if binary {
        "one colour per run"
    } else {
        "one colour per class (legend: mean over runs), later runs dashed"
    };
    figure(
        s,
        &roc.svg(),
        &format!(
            "{legend_note}. AUROC{} per run: {}.",
            if binary {
                ""
            } else {
                " (macro mean over classes)"
            },
            per_run.join(", ")
        ),
    );
    figure(
        s,
        &pr.svg(),
        &format!(
            "{legend_note}. AP = average precision Σ (Rₙ − Rₙ₋₁)·Pₙ; the chance level is the \
             positive fraction."
        ),
    );
}

/// Predicted vs true, runs overlaid, with Spearman ρ per run.
fn scatter(s: &mut String, with: &[(usize, &Outputs)], runs: &[RunScores]) {
    let ordinal = !with[0].1.classes.is_empty();
    let pairs: Vec<Vec<(f64, f64)>> = with
        .iter()
        .map(|(_, o)| {
            o.labels
                .iter()
                .zip(&o.values)
                .filter_map(|(l, v)| {
                    let pred = if ordinal {
                        v.iter().enumerate().map(|(k, p)| k as f64 * p).sum()
                    } else {
                        v[0]
                    };
                    Some(((*l)?, pred))
                })
                .collect()
        })
        .collect();
    let rho: Vec<f64> = pairs
        .iter()
        .map(|p| {
            let (t, y): (Vec<f64>, Vec<f64>) = p.iter().copied().unzip();
            strand_data::metrics::spearman(&y, &t)
        })
        .collect();
    let shown: Vec<Vec<(f64, f64)>> = pairs.iter().map(|p| thin(p, MAX_SCATTER_POINTS)).collect();
    let (x_label, y_label) = if ordinal {
        ("true level (from the lowest)", "expected level Σ p·k")
    } else {
        ("true value", "predicted value")
    };
    let mut c = sized(Chart::new(
        &format!(
            "Predicted vs true: Spearman ρ {}",
            rho.iter()
                .map(|r| format!("{r:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        x_label,
        y_label,
    ));
    c.diagonal = true;
    c.legend = Legend::BottomRight;
    for (pos, (i, _)) in with.iter().enumerate() {
        c.curves.push(Curve {
            name: format!("{}: ρ {:.3}", run_label(&runs[*i]), rho[pos]),
            points: &shown[pos],
            color: pos,
            dashed: false,
            dots: true,
            legend: true,
        });
    }
    let total: usize = pairs.iter().map(Vec::len).sum();
    let drawn: usize = shown.iter().map(Vec::len).sum();
    figure(
        s,
        &c.svg(),
        &format!(
            "One colour per run; dashed: predicted = true. ρ over all {total} labelled records \
             ({drawn} drawn)."
        ),
    );
}

/// One confusion matrix per run (rows: true class, columns: most probable class), cells shaded
/// by their share of the row.
fn confusion_matrices(s: &mut String, with: &[(usize, &Outputs)], runs: &[RunScores]) {
    s.push_str("<div class=\"charts\">\n");
    for (i, o) in with {
        let n = o.classes.len();
        let (pred, truth): (Vec<u32>, Vec<u32>) = o
            .labels
            .iter()
            .zip(&o.values)
            .filter_map(|(l, v)| {
                let best = v
                    .iter()
                    .enumerate()
                    .fold(0, |b, (k, p)| if *p > v[b] { k } else { b });
                Some((best as u32, (*l)? as u32))
            })
            .unzip();
        let m = strand_data::metrics::confusion_matrix(&pred, &truth, n);
        let _ = write!(
            s,
            "<table class=\"cm\"><caption>Confusion matrix, {}</caption><tr><th>true ↓ predicted →</th>",
            esc(&run_label(&runs[*i]))
        );
        for c in &o.classes {
            let _ = write!(s, "<th>{}</th>", esc(c));
        }
        s.push_str("</tr>");
        for (t, row) in m.iter().enumerate() {
            let total: u64 = row.iter().sum();
            let _ = write!(s, "<tr><th>{}</th>", esc(&o.classes[t]));
            for &v in row {
                let share = if total > 0 {
                    v as f64 / total as f64
                } else {
                    0.0
                };
                let _ = write!(
                    s,
                    "<td style=\"background:rgba(47,111,159,{:.2})\">{v}</td>",
                    share * 0.8
                );
            }
            s.push_str("</tr>");
        }
        s.push_str("</table>\n");
    }
    s.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::run_dir::Scores;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn run(dir: &std::path::Path, seed: u64, task: &str) -> RunScores {
        let mut test = BTreeMap::new();
        test.insert("auroc".to_string(), 0.75);
        test.insert("mcc".to_string(), 0.5);
        RunScores {
            dir: dir.to_path_buf(),
            scores: Scores {
                strand_version: "0".into(),
                task: task.into(),
                data_version: "1".into(),
                model: "cnn<gb>".into(),
                tokenizer: "nucleotide".into(),
                seed,
                split_seed: 0,
                fold: None,
                global_batch: 8,
                micro_batch: Some(8),
                accumulation: 1,
                epochs: 2,
                epochs_trained: Some(2),
                best_epoch: 2,
                selection_metric: "mcc".into(),
                metrics: vec!["mcc".into(), "auroc".into()],
                eval_split: "test".into(),
                config: "config.resolved.toml".into(),
                splits: BTreeMap::from([("test".to_string(), test)]),
            },
            head: None,
            init: None,
            strands: None,
        }
    }

    #[test]
    fn escapes_text_from_files_and_has_every_section() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r<1>");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.resolved.toml"),
            "task = \"</pre><script>alert(1)</script>\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("metrics.jsonl"),
            "{\"step\":1,\"epoch\":1,\"loss\":0.7}\n\
             {\"epoch\":1,\"step\":1,\"train_loss\":0.7,\"valid\":{\"loss\":0.6,\"mcc\":0.1},\"best\":true,\"skipped\":0,\"seconds\":1.0}\n\
             {\"epoch\":2,\"step\":2,\"train_loss\":0.5,\"valid\":{\"loss\":0.5,\"mcc\":0.4},\"best\":true,\"skipped\":0,\"seconds\":1.0}\n",
        )
        .unwrap();
        // Scores 0.9(+) 0.8(−) 0.8(+) 0.3(−): AUROC 0.875.
        std::fs::write(
            dir.join("outputs.test.tsv"),
            "id\tlabel\tp:no&\tp:<yes>\na\t1\t0.1\t0.9\nb\t0\t0.2\t0.8\nc\t1\t0.2\t0.8\nd\t0\t0.7\t0.3\n",
        )
        .unwrap();
        let runs = vec![run(&dir, 0, "csv:t<x>.csv")];
        let page = html(&runs, None).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        assert!(!page.contains("<script"), "no script at all: {page}");
        assert!(page.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("cnn&lt;gb&gt;") && page.contains("csv:t&lt;x&gt;.csv"));
        assert!(page.contains("r&lt;1&gt;"));
        assert!(!page.contains("src=") && !page.contains("href=\"http"));
        for needle in [
            "id=\"scores\"",
            "Loss per epoch",
            "Validation mcc per epoch",
            "ROC (class &lt;yes&gt; positive)",
            "Precision-recall",
            "Confusion matrix, seed 0",
            "<details><summary>seed 0",
            "seed 0 0.8750 (scores.json: 0.7500)",
        ] {
            assert!(page.contains(needle), "missing {needle:?}");
        }
        // The confusion matrix: truth 1 → predicted 1 twice; truth 0 → 1 once, → 0 once.
        assert!(page.contains(">1</td><td style=\"background:rgba(47,111,159,0.40)\">1</td>"));
        assert_eq!(page.matches("<svg").count(), 4);
    }

    #[test]
    fn regression_runs_get_a_scatter_and_runs_without_outputs_a_note() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(
            a.join("outputs.test.tsv"),
            "id\tlabel\tprediction\nx\t1.5\t1.0\ny\t2.5\t3.0\nz\t0.5\t0.0\n",
        )
        .unwrap();
        let runs = vec![run(&a, 0, "csv:r.csv"), run(&b, 1, "csv:r.csv")];
        let page = html(&runs, None).unwrap();
        assert!(
            page.contains("Predicted vs true: Spearman ρ 1.000"),
            "{page}"
        );
        assert_eq!(page.matches("<circle").count(), 3);
        assert!(page.contains("1 of 2 runs have no per-record outputs file"));
        assert!(page.contains("no config.resolved.toml in the run"));
        assert!(!page.contains("ROC (") && !page.contains("Precision-recall ("));
        let _ = PathBuf::new();
    }

    #[test]
    fn guanine_catalogue_rows_surround_ours_marked_dev() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = tmp.path().join("c.csv");
        std::fs::write(&csv, "model,dnase\nA,40\nB,10\n").unwrap();
        let cat = Catalogue::read(&csv).unwrap();
        let mut r = run(tmp.path(), 0, "guanine/dnase_propensity");
        r.scores.eval_split = "valid".into();
        r.scores.metrics = vec!["spearman100".into()];
        r.scores.splits = BTreeMap::from([(
            "valid".to_string(),
            BTreeMap::from([("spearman100".to_string(), 25.0)]),
        )]);
        let page = html(&[r], Some(&cat)).unwrap();
        let table = page.split("GUANinE catalogue: spearman100").nth(1).unwrap();
        let a = table.find(">A<").unwrap();
        let ours = table.find("strand: cnn&lt;gb&gt;").unwrap();
        let b = table.find(">B<").unwrap();
        assert!(a < ours && ours < b, "ranked by value");
        assert!(table.contains("<tr class=\"ours\"><td class=\"num\">2</td>"));
        assert!(table.contains("<span class=\"split dev\">dev</span>"));
        assert!(page.contains("no Δ"));
    }
}
