//! `outcomes.html`: the outcomes report as a page for evaluators — a table
//! and an inline SVG chart (rate and 95% interval by group) per indicator,
//! and each indicator's rates over the project's past runs. No script, no
//! external resource: the page works saved to disk.

use std::fmt::Write as _;

use super::report::{Count, Difference, GroupResult, OutcomesReport};

/// The file name.
pub const HTML_FILE: &str = "outcomes.html";

/// Renders the page. `history` holds earlier runs' reports, oldest first.
pub fn render(report: &OutcomesReport, history: &[OutcomesReport]) -> String {
    let mut h = String::new();
    let title = format!("Outcomes — {} — run {}", report.project, report.run_id);
    let _ = writeln!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p>Published {}. {}</p>",
        esc(&title),
        esc(&title),
        esc(&report.created_at),
        esc(&capitalise(&report.disclosure.statement)),
    );
    if let Some(reason) = &report.withheld {
        let _ = write!(h, "<p class=\"withheld\">No report: {}.</p>", esc(reason));
        h.push_str("</body></html>\n");
        return h;
    }
    if let Some(sizes) = &report.cohort {
        let _ = writeln!(
            h,
            "<p>Cohort: {} people — {} participants, {} in the comparison group.</p>",
            count(&sizes.persons),
            count(&sizes.participant),
            count(&sizes.comparison)
        );
    }
    if let Some(reason) = &report.groups_withheld {
        let _ = writeln!(h, "<p class=\"withheld\">{}.</p>", esc(&capitalise(reason)));
    }
    for ind in &report.indicators {
        let _ = writeln!(
            h,
            "<section><h2>{}</h2>\n<p class=\"meta\"><code>{}</code> · {} over <code>{}</code>, days {} to {} after the index date · followed up to {}</p>",
            esc(&ind.label),
            esc(&ind.name),
            ind.kind.name(),
            esc(&ind.dataset),
            ind.window[0],
            ind.window[1],
            esc(&ind.as_of)
        );
        h.push_str(&bars(&ind.groups));
        h.push_str("<table><tr><th>group</th><th>people</th><th>not yet followed up</th><th>denominator</th><th>with outcome</th><th>rate (95% CI)</th></tr>\n");
        for g in &ind.groups {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.group),
                count(&g.persons),
                count(&g.not_yet_followed_up),
                count(&g.denominator),
                count(&g.numerator),
                rate(g)
            );
        }
        h.push_str("</table>\n");
        match &ind.difference {
            Some(Difference::Estimate { interval, test }) => {
                let _ = writeln!(
                    h,
                    "<p>Difference (participants − comparison): {:+.1} points (95% CI {:+.1} to {:+.1}, Newcombe); {} p = {:.3}.</p>",
                    interval.estimate * 100.0,
                    interval.low * 100.0,
                    interval.high * 100.0,
                    esc(&test.method.replace('_', " ")),
                    test.p_value
                );
            }
            Some(Difference::Withheld(reason)) => {
                let _ = writeln!(
                    h,
                    "<p class=\"withheld\">Difference withheld: {}.</p>",
                    esc(reason)
                );
            }
            None => {}
        }
        for note in &ind.notes {
            let _ = writeln!(h, "<p class=\"meta\">Note: {}.</p>", esc(note));
        }
        h.push_str(&trend(&ind.name, history, report));
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}.meta{color:#555;font-size:.9rem}.withheld{color:#8a3b00}section{margin-top:2rem}";

const COLOURS: [&str; 3] = ["#1b6ca8", "#d1495b", "#6c757d"];

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn count(c: &Count) -> String {
    match c {
        Count::Value(v) => v.to_string(),
        Count::Suppressed(why) => format!("<span title=\"{}\">suppressed</span>", esc(why)),
    }
}

fn rate(g: &GroupResult) -> String {
    match g.rate {
        Some(r) => format!(
            "{:.1}% ({:.1}–{:.1})",
            r.estimate * 100.0,
            r.low * 100.0,
            r.high * 100.0
        ),
        None => "—".to_owned(),
    }
}

/// Horizontal bars with interval whiskers, one per group, on a 0–100% axis.
fn bars(groups: &[GroupResult]) -> String {
    let (w, row, left) = (520.0, 26.0, 110.0);
    let height = row * groups.len() as f64 + 24.0;
    let x = |p: f64| left + p * (w - left - 10.0);
    let mut s = format!(
        "<svg width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"rate by group\">"
    );
    for (i, g) in groups.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 15.0,
            esc(&g.group)
        );
        match g.rate {
            Some(r) => {
                let _ = write!(
                    s,
                    "<rect x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"18\" fill=\"{}\"/><line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#000\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"11\">{:.1}%</text>",
                    x(r.estimate) - left,
                    COLOURS[i % 3],
                    x(r.low),
                    x(r.high),
                    y + 9.0,
                    y + 9.0,
                    x(r.high) + 4.0,
                    y + 14.0,
                    r.estimate * 100.0
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<text x=\"{left}\" y=\"{}\" font-size=\"11\" fill=\"#8a3b00\">suppressed</text>",
                    y + 14.0
                );
            }
        }
    }
    let axis = row * groups.len() as f64 + 8.0;
    for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}%</text>",
            x(p),
            axis + 12.0,
            p * 100.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The indicator's rate per group over past runs and this one.
fn trend(name: &str, history: &[OutcomesReport], current: &OutcomesReport) -> String {
    let runs: Vec<&OutcomesReport> = history.iter().chain(std::iter::once(current)).collect();
    if runs.len() < 2 {
        return String::new();
    }
    let (w, h, left, bottom) = (520.0, 160.0, 40.0, 20.0);
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / (runs.len() - 1) as f64;
    let y = |p: f64| (h - bottom) - p * (h - bottom - 10.0);
    let mut s = format!(
        "<p class=\"meta\">Over the last {} runs:</p><svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"rate over runs\">",
        runs.len()
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"10\" y2=\"{}\" stroke=\"#999\"/><text x=\"0\" y=\"{}\" font-size=\"10\">100%</text><text x=\"0\" y=\"{}\" font-size=\"10\">0%</text>",
        h - bottom,
        y(1.0) + 4.0,
        y(0.0)
    );
    for (g, group) in ["participant", "comparison", "all"].iter().enumerate() {
        let points: Vec<String> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let ind = r.indicators.iter().find(|ind| ind.name == name)?;
                let rate = ind.groups.iter().find(|gr| gr.group == *group)?.rate?;
                Some(format!("{:.1},{:.1}", x(i), y(rate.estimate)))
            })
            .collect();
        if !points.is_empty() {
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{group}</title></polyline>",
                COLOURS[g],
                points.join(" ")
            );
        }
    }
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 4.0,
            r.run_id
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
