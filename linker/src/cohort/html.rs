//! `outcomes.html`: the outcomes report as a page for evaluators, read like
//! a Justice Data Lab summary (issue 18): who was compared with whom, then
//! per indicator a headline "for every 100 people" in each group with the
//! difference and whether it is statistically significant, the table, a
//! chart (rate and 95% interval by group), the baseline before the index
//! date, Kaplan–Meier curves for time to event, and the rates over the
//! project's past runs; then the balance table of the matching. No script,
//! no external resource: the page works saved to disk.

use std::fmt::Write as _;

use super::comparison_report::ComparisonReport;
use super::report::{Count, Difference, GroupResult, IndicatorReport, OutcomesReport};
use super::stats::Interval;
use super::survival::Curve;

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
    if let Some(p) = &report.participation {
        let _ = writeln!(
            h,
            "<p><strong>Who is a participant.</strong> {}.</p>",
            esc(&capitalise(&p.statement))
        );
    }
    if let Some(c) = &report.comparison {
        let _ = writeln!(
            h,
            "<p><strong>Who they are compared with.</strong> {}.</p>",
            esc(&capitalise(&c.statement))
        );
    }
    if let Some(sizes) = &report.cohort {
        let _ = write!(
            h,
            "<p>Cohort: {} people — {} participants, {} in the comparison group",
            count(&sizes.persons),
            count(&sizes.participant),
            count(&sizes.comparison)
        );
        if let (Some(mp), Some(mc)) = (&sizes.matched_participant, &sizes.matched_comparison) {
            let _ = write!(
                h,
                "; {} participants matched to {} comparison people",
                count(mp),
                count(mc)
            );
        }
        h.push_str(".</p>\n");
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
        h.push_str(&headline(ind));
        h.push_str(&bars(&ind.groups));
        let baseline = ind.baseline.as_ref();
        let _ = writeln!(
            h,
            "<table><tr><th>group</th><th>people</th><th>not yet followed up</th><th>denominator</th><th>with outcome</th><th>per 100 people (95% CI)</th>{}</tr>",
            baseline
                .map(|b| format!(
                    "<th>before: days {} to {}, per 100</th>",
                    b.window[0], b.window[1]
                ))
                .unwrap_or_default()
        );
        for g in &ind.groups {
            let before = baseline
                .and_then(|b| b.groups.iter().find(|x| x.group == g.group))
                .map(|b| format!("<td>{}</td>", per_100(b)));
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
                esc(group_name(&g.group)),
                count(&g.persons),
                count(&g.not_yet_followed_up),
                count(&g.denominator),
                count(&g.numerator),
                per_100(g),
                before.unwrap_or_default()
            );
        }
        h.push_str("</table>\n");
        let against = ind.compared_with.as_deref().unwrap_or("comparison");
        let primary = if against == "matched_comparison" {
            "matched_participant"
        } else {
            "participant"
        };
        for (d, a, b) in [
            (&ind.difference, primary, against),
            (&ind.secondary_difference, "participant", "comparison"),
        ] {
            match d {
                Some(Difference::Estimate { interval, test }) => {
                    let _ = writeln!(
                        h,
                        "<p>Difference ({} − {}): {:+.1} per 100 people (95% CI {:+.1} to {:+.1}, Newcombe); {} p = {:.3}.</p>",
                        esc(group_name(a)),
                        esc(group_name(b)),
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
                        "<p class=\"withheld\">Difference ({} − {}) withheld: {}.</p>",
                        esc(group_name(a)),
                        esc(group_name(b)),
                        esc(reason)
                    );
                }
                None => {}
            }
        }
        if !ind.survival.is_empty() {
            h.push_str(&curves(&ind.survival, ind.window));
        }
        for note in &ind.notes {
            let _ = writeln!(h, "<p class=\"meta\">Note: {}.</p>", esc(note));
        }
        h.push_str(&trend(&ind.name, history, report));
        h.push_str("</section>\n");
    }
    if let Some(c) = &report.comparison {
        h.push_str(&balance(c));
    }
    h.push_str("</body></html>\n");
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}.meta{color:#555;font-size:.9rem}.withheld{color:#8a3b00}section{margin-top:2rem}.headline{font-size:1.15rem;background:#f3f6fa;padding:.6rem .8rem;border-left:4px solid #1b6ca8}";

/// Each group's colour, the same in every chart.
fn colour(group: &str) -> &'static str {
    match group {
        "participant" => "#1b6ca8",
        "comparison" => "#d1495b",
        "matched_participant" => "#2a9d8f",
        "matched_comparison" => "#e9a23b",
        _ => "#6c757d",
    }
}

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

/// A rate as "x per 100 (low–high)".
fn per_100(g: &GroupResult) -> String {
    match g.rate {
        Some(r) => format!(
            "{:.1} ({:.1}–{:.1})",
            r.estimate * 100.0,
            r.low * 100.0,
            r.high * 100.0
        ),
        None => "—".to_owned(),
    }
}

/// How a group is called in sentences.
fn group_name(group: &str) -> &str {
    match group {
        "participant" => "participants",
        "comparison" => "the whole comparison group",
        "matched_participant" => "matched participants",
        "matched_comparison" => "the matched comparison group",
        "all" => "everyone",
        other => other,
    }
}

/// The headline: for every 100 people in each compared group, the
/// difference and whether it is statistically significant.
fn headline(ind: &IndicatorReport) -> String {
    let against = ind.compared_with.as_deref().unwrap_or("comparison");
    let primary = if against == "matched_comparison" {
        "matched_participant"
    } else {
        "participant"
    };
    let rate = |name: &str| -> Option<Interval> {
        ind.groups
            .iter()
            .find(|g| g.group == name)
            .and_then(|g| g.rate)
    };
    let (Some(a), Some(b), Some(Difference::Estimate { interval, test })) =
        (rate(primary), rate(against), &ind.difference)
    else {
        return match rate("all") {
            Some(r) => format!(
                "<p class=\"headline\">For every 100 people in the cohort, {:.0} had this outcome (groups not compared).</p>\n",
                r.estimate * 100.0
            ),
            None => String::new(),
        };
    };
    let verdict = if test.p_value < 0.05 {
        format!(
            "statistically significant at the 5% level (p {})",
            p_text(test.p_value)
        )
    } else {
        format!(
            "not statistically significant at the 5% level (p {})",
            p_text(test.p_value)
        )
    };
    format!(
        "<p class=\"headline\">For every 100 {} {:.0} had this outcome, against {:.0} for every 100 in {}: a difference of {:+.0} (95% CI {:+.1} to {:+.1}), {}.</p>\n",
        esc(group_name(primary)),
        a.estimate * 100.0,
        b.estimate * 100.0,
        esc(group_name(against)),
        interval.estimate * 100.0,
        interval.low * 100.0,
        interval.high * 100.0,
        esc(&verdict)
    )
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_owned()
    } else {
        format!("= {p:.3}")
    }
}

/// The matching's balance table, model and notes.
fn balance(c: &ComparisonReport) -> String {
    let mut h = String::from("<section><h2>Balance of the matched comparison</h2>\n");
    if c.balance.is_empty() {
        h.push_str("<p class=\"meta\">No matching: no balance table.</p></section>\n");
        return h;
    }
    if let Some(m) = &c.matching {
        let _ = writeln!(
            h,
            "<p>Caliper {} SD of the logit ({:.4}); common support {:.3} to {:.3}; participants outside it: {}; comparison people outside it: {}; participants without a match: {}.</p>",
            m.caliper_sd,
            m.caliper,
            m.common_support[0],
            m.common_support[1],
            count(&m.participants_outside_support),
            count(&m.comparison_outside_support),
            count(&m.unmatched_participants)
        );
    }
    h.push_str("<table><tr><th>covariate</th><th>SMD before</th><th>SMD after</th><th>mean, participants</th><th>mean, comparison</th><th>mean, matched comparison</th></tr>\n");
    let num =
        |v: Option<f64>, digits: usize| v.map_or("—".to_owned(), |v| format!("{v:.digits$}"));
    for b in &c.balance {
        let after = b.smd_after.map_or(0.0, f64::abs);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&b.covariate),
            num(b.smd_before, 3),
            if after > 0.1 {
                " class=\"withheld\""
            } else {
                ""
            },
            num(b.smd_after, 3),
            num(b.mean_participant, 2),
            num(b.mean_comparison, 2),
            num(b.mean_matched_comparison, 2)
        );
    }
    h.push_str("</table>\n<p class=\"meta\">SMD: the standardised mean difference, participants minus comparison, on the pooled standard deviation before matching; under 0.1 is usually taken as balanced. Means are shown for numeric covariates of groups of at least the minimum cohort size only.</p>\n");
    if let Some(model) = &c.model {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Propensity model: {}, {} terms, {} after {} iterations.</p>",
            esc(&model.kind),
            model.coefficients.len(),
            if model.converged {
                "converged"
            } else {
                "did not converge"
            },
            model.iterations
        );
    }
    for m in &c.missing {
        let _ = writeln!(
            h,
            "<p class=\"meta\">Missing <code>{}</code>: {} people, given {}.</p>",
            esc(&m.covariate),
            count(&m.missing),
            esc(&m.rule)
        );
    }
    for note in &c.notes {
        let _ = writeln!(h, "<p class=\"meta\">Note: {}.</p>", esc(note));
    }
    h.push_str("</section>\n");
    h
}

/// Kaplan–Meier curves as step lines, one per group, on days × 0–100%.
fn curves(curves: &[Curve], window: [i64; 2]) -> String {
    let (w, ht, left, bottom) = (520.0, 200.0, 40.0, 24.0);
    let span = (window[1] - window[0] + 1).max(1) as f64;
    let x = |day: i64| left + (w - left - 10.0) * (day - window[0] + 1) as f64 / span;
    let y = |s: f64| (ht - bottom) - s * (ht - bottom - 10.0);
    let mut s = format!(
        "<p class=\"meta\">Still without the event (Kaplan–Meier, from the published counts):</p><svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"Kaplan–Meier curves\">"
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" x2=\"{left}\" y1=\"10\" y2=\"{}\" stroke=\"#999\"/><line x1=\"{left}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#999\"/><text x=\"0\" y=\"{}\" font-size=\"10\">100%</text><text x=\"0\" y=\"{}\" font-size=\"10\">0%</text><text x=\"{left}\" y=\"{}\" font-size=\"10\">day {}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">day {}</text>",
        ht - bottom,
        w - 10.0,
        ht - bottom,
        ht - bottom,
        y(1.0) + 4.0,
        y(0.0),
        ht - 6.0,
        window[0],
        w - 10.0,
        ht - 6.0,
        window[1]
    );
    let mut legend = String::from("<p class=\"meta\">");
    for c in curves {
        let colour = colour(&c.group);
        let mut points = vec![format!("{:.1},{:.1}", x(window[0] - 1), y(1.0))];
        let mut last = 1.0;
        for step in &c.steps {
            points.push(format!("{:.1},{:.1}", x(step.to), y(last)));
            points.push(format!("{:.1},{:.1}", x(step.to), y(step.survival)));
            last = step.survival;
        }
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            points.join(" "),
            esc(&c.group)
        );
        let end = c.steps.last().map_or("—".to_owned(), |st| {
            format!("{:.0} per 100 by day {}", st.survival * 100.0, st.to)
        });
        let _ = write!(
            legend,
            "<span style=\"color:{colour}\">■</span> {}: {}{} &nbsp; ",
            esc(group_name(&c.group)),
            end,
            c.truncated
                .as_ref()
                .map(|t| format!(" (curve stops {})", esc(t)))
                .unwrap_or_default()
        );
    }
    s.push_str("</svg>\n");
    legend.push_str("</p>\n");
    s + &legend
}

/// Horizontal bars with interval whiskers, one per group, on a 0–100% axis.
fn bars(groups: &[GroupResult]) -> String {
    let (w, row, left) = (560.0, 26.0, 150.0);
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
                    colour(&g.group),
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
    for group in [
        "participant",
        "comparison",
        "matched_participant",
        "matched_comparison",
        "all",
    ] {
        let points: Vec<String> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let ind = r.indicators.iter().find(|ind| ind.name == name)?;
                let rate = ind.groups.iter().find(|gr| gr.group == group)?.rate?;
                Some(format!("{:.1},{:.1}", x(i), y(rate.estimate)))
            })
            .collect();
        if !points.is_empty() {
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"><title>{group}</title></polyline>",
                colour(group),
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

    fn group(name: &str, x: u64, n: u64) -> serde_json::Value {
        let r = super::super::stats::wilson(x, n);
        serde_json::json!({
            "group": name, "persons": {"value": n}, "not_yet_followed_up": {"value": 0},
            "denominator": {"value": n}, "numerator": {"value": x}, "without": {"value": n - x},
            "rate": {"estimate": r.estimate, "low": r.low, "high": r.high}
        })
    }

    /// Issue 18: the page reads like a Justice Data Lab summary.
    #[test]
    fn the_page_leads_with_for_every_100_people_and_the_balance_table() {
        let report = serde_json::json!({
            "project": "p", "run_id": 3, "created_at": "2026-01-01T00:00:00Z",
            "disclosure": {"min_cell": 10, "method": "cell_key", "min_cohort": 60,
                           "date_precision": "month", "statement": "counts are protected"},
            "cohort": {"persons": {"value": 900}, "participant": {"value": 300},
                       "comparison": {"value": 600}, "matched_participant": {"value": 280},
                       "matched_comparison": {"value": 280}},
            "participation": {"rule": "window", "dataset": "d", "statement": "a participant is referred"},
            "comparison": {"method": "matched", "statement": "matched on the score",
                "matching": {"kind": "greedy", "caliper_sd": 0.2, "caliper": 0.1, "replacement": false,
                    "ratio": 1, "order": "by id", "common_support": [0.1, 0.9],
                    "participants_outside_support": {"value": 0},
                    "comparison_outside_support": {"value": 12},
                    "unmatched_participants": {"value": 20}},
                "balance": [{"covariate": "age", "smd_before": 0.41, "smd_after": 0.02,
                             "mean_participant": 34.5, "mean_comparison": 31.0,
                             "mean_matched_comparison": 34.1}]},
            "indicators": [{
                "name": "reoffended_6m", "label": "Reoffending", "kind": "time_to_first",
                "dataset": "police", "window": [1, 120], "as_of": "2025-01-01",
                "groups": [group("matched_participant", 64, 280), group("matched_comparison", 115, 280), group("all", 300, 900)],
                "compared_with": "matched_comparison",
                "difference": {"estimate": {"interval": {"estimate": -0.182, "low": -0.26, "high": -0.10},
                               "test": {"method": "two_proportion_z", "statistic": -4.6, "p_value": 0.00001}}},
                "survival": [{"group": "matched_participant", "step_days": 21, "steps": [
                    {"from": 1, "to": 21, "at_risk": {"value": 280}, "events": {"value": 20},
                     "survival": 0.93, "low": 0.9, "high": 0.96}],
                    "truncated": "from day 22: withheld"}]
            }]
        });
        let report: OutcomesReport = serde_json::from_value(report).expect("a report");
        let page = render(&report, &[]);
        for needle in [
            "For every 100 matched participants 23 had this outcome, against 41 for every 100 in the matched comparison group: a difference of -18",
            "statistically significant at the 5% level (p &lt; 0.001)",
            "<td>age</td><td>0.410</td><td>0.020</td>",
            "Kaplan–Meier",
            "curve stops from day 22",
            "280 participants matched to 280 comparison people",
            "Who is a participant.</strong> A participant is referred.",
        ] {
            assert!(page.contains(needle), "no {needle:?} in\n{page}");
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
