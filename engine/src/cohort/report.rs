//! `outcomes.json`: each indicator for participants, the comparison group
//! and everyone, with Wilson intervals, the difference with Newcombe's
//! interval and a test — all computed from the counts as published, after
//! suppression and perturbation. Anything withheld says why.
//!
//! Under the cell-key method every count, each total included, is
//! perturbed as a cell of its own by the key of its people, so published
//! parts need not add up to their published total, and a numerator may be
//! published above its denominator (the rate then takes them as equal).

use serde::{Deserialize, Serialize};

use super::build::Cohort;
use super::config::{DatePrecision, DisclosureConfig, DisclosureMethod, OutcomeKind};
use super::disclosure::{Protected, Rules, Suppression, Table};
use super::ptable::{self, CellKey};
use super::stats::{self, Interval, Test};

/// The outcomes report of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomesReport {
    pub project: String,
    pub run_id: u64,
    pub created_at: String,
    pub disclosure: DisclosureSummary,
    /// Why there is no report (a cohort under the minimum size), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// People in the cohort and in each group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<GroupSizes>,
    /// Why groups are not compared (a group under the minimum cell count), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_withheld: Option<String>,
    pub indicators: Vec<IndicatorReport>,
}

/// The disclosure rules a report was published under, for its readers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisclosureSummary {
    pub min_cell: u64,
    /// `cell_key` or `round` (reports from before issue 17 were rounded).
    #[serde(default = "legacy_method")]
    pub method: DisclosureMethod,
    /// `cell_key`: the range of record and cell keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_range: Option<u64>,
    /// `cell_key`: the largest perturbation of a published count, either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_perturbation: Option<u64>,
    /// `cell_key`: the name of the perturbation table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptable: Option<String>,
    /// `round`: the rounding base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounding: Option<u64>,
    /// Whether published parts add up to their published totals (never
    /// promised under `cell_key`, and not under `round` either).
    #[serde(default)]
    pub totals_additive: bool,
    pub min_cohort: u64,
    pub date_precision: DatePrecision,
    pub statement: String,
}

fn legacy_method() -> DisclosureMethod {
    DisclosureMethod::Round
}

impl DisclosureSummary {
    pub fn of(rules: &DisclosureConfig) -> DisclosureSummary {
        let small = format!(
            "counts from 1 to {} are suppressed, with further counts withheld so they cannot be worked out from totals",
            rules.min_cell - 1
        );
        let cell_key = rules.method == DisclosureMethod::CellKey;
        let statement = if cell_key {
            format!(
                "{small}; every published count, each total included, is perturbed by at most {} (never below {}) by the cell-key method, the same people giving the same figure in every run, so totals need not equal the sum of their parts; rates, intervals and tests are computed from the published counts",
                ptable::MAX_PERTURBATION,
                rules.min_cell
            )
        } else {
            format!(
                "{small}; published counts are rounded to the nearest {}, totals independently; rates, intervals and tests are computed from the published counts",
                rules.rounding
            )
        };
        DisclosureSummary {
            min_cell: rules.min_cell,
            method: rules.method,
            key_range: cell_key.then_some(ptable::KEY_RANGE as u64),
            max_perturbation: cell_key.then_some(ptable::MAX_PERTURBATION),
            ptable: cell_key.then(|| ptable::PTABLE_NAME.to_owned()),
            rounding: (!cell_key).then_some(rules.rounding),
            totals_additive: false,
            min_cohort: rules.min_cohort,
            date_precision: rules.date_precision,
            statement,
        }
    }
}

/// A published count, or why it is not published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    Value(u64),
    Suppressed(String),
}

impl Count {
    pub fn value(&self) -> Option<u64> {
        match self {
            Count::Value(v) => Some(*v),
            Count::Suppressed(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSizes {
    pub persons: Count,
    pub participant: Count,
    pub comparison: Count,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorReport {
    pub name: String,
    pub label: String,
    pub kind: OutcomeKind,
    pub dataset: String,
    /// First and last day after the index date.
    pub window: [i64; 2],
    /// Follow-up ends on this date; windows ending later are not counted.
    pub as_of: String,
    /// `participant`, `comparison` (when compared) and `all`.
    pub groups: Vec<GroupResult>,
    /// Participants minus comparison group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    pub group: String,
    pub persons: Count,
    /// Windows not yet closed on the follow-up date: not counted.
    pub not_yet_followed_up: Count,
    /// People whose window has closed.
    pub denominator: Count,
    /// Of those, people with the outcome.
    pub numerator: Count,
    /// Of those, people without it.
    pub without: Count,
    /// numerator / denominator with its 95% Wilson interval, from the
    /// published (perturbed) counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Interval>,
    /// `count`: events in the window among the denominator, and per person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_per_person: Option<f64>,
    /// `time_to_first`: median days to the first event among the numerator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_days_to_first_event: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    Estimate {
        /// Newcombe's hybrid score interval (method 10).
        interval: Interval,
        test: Test,
    },
    Withheld(String),
}

/// One group's exact counts for an indicator, with their cell keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub yes: u64,
    pub no: u64,
    pub open: u64,
    pub events: u64,
    pub yes_key: CellKey,
    pub no_key: CellKey,
    pub open_key: CellKey,
    /// Each event carries its person's record key.
    pub events_key: CellKey,
}

impl Counts {
    fn plus(self, o: Counts) -> Counts {
        Counts {
            yes: self.yes + o.yes,
            no: self.no + o.no,
            open: self.open + o.open,
            events: self.events + o.events,
            yes_key: self.yes_key.plus(o.yes_key),
            no_key: self.no_key.plus(o.no_key),
            open_key: self.open_key.plus(o.open_key),
            events_key: self.events_key.plus(o.events_key),
        }
    }
}

/// Builds the report from the cohort under the project's disclosure rules.
/// `record_keys` holds each member's record key, in the order of
/// `cohort.members` (the linker draws them from the project's secret).
pub fn report(
    project: &str,
    run_id: u64,
    created_at: &str,
    cohort: &Cohort,
    rules: &DisclosureConfig,
    record_keys: &[CellKey],
) -> OutcomesReport {
    assert_eq!(
        record_keys.len(),
        cohort.members.len(),
        "one record key per member of the cohort"
    );
    let r = rules.rules();
    let mut out = OutcomesReport {
        project: project.to_owned(),
        run_id,
        created_at: created_at.to_owned(),
        disclosure: DisclosureSummary::of(rules),
        withheld: None,
        cohort: None,
        groups_withheld: None,
        indicators: Vec::new(),
    };
    let total = cohort.members.len() as u64;
    if total < rules.min_cohort {
        out.withheld = Some(format!(
            "the cohort is smaller than the minimum of {} people for a report",
            rules.min_cohort
        ));
        return out;
    }
    let participants = cohort.members.iter().filter(|m| m.participant).count() as u64;
    let group_key = |participant: bool| {
        CellKey::sum(
            cohort
                .members
                .iter()
                .zip(record_keys)
                .filter(|(m, _)| m.participant == participant)
                .map(|(_, k)| *k),
        )
    };
    let sizes = Table {
        cells: vec![participants, total - participants],
        sums: vec![vec![0, 1]],
        fixed: vec![2],
        keys: vec![group_key(true), group_key(false)],
    }
    .protect(&r);
    let count = |p: &Protected, i: usize| match p.items[i] {
        Ok(v) => Count::Value(v),
        Err(s) => Count::Suppressed(s.explain(rules.min_cell)),
    };
    let compared = sizes.items.iter().all(Result::is_ok);
    out.cohort = Some(GroupSizes {
        persons: count(&sizes, 2),
        participant: count(&sizes, 0),
        comparison: count(&sizes, 1),
    });
    if !compared {
        out.groups_withheld = Some(format!(
            "one group has fewer than {} people: indicators are given for the whole cohort only",
            rules.min_cell
        ));
    }
    for indicator in &cohort.indicators {
        let mut groups = [Counts::default(); 2];
        let mut days: [Vec<i32>; 2] = [Vec::new(), Vec::new()];
        for ((m, v), &key) in cohort
            .members
            .iter()
            .zip(&indicator.values)
            .zip(record_keys)
        {
            let g = &mut groups[usize::from(!m.participant)];
            if !v.closed {
                g.open += 1;
                g.open_key = g.open_key.plus(key);
            } else if v.hit {
                g.yes += 1;
                g.yes_key = g.yes_key.plus(key);
                g.events += u64::from(v.count);
                g.events_key = g.events_key.plus(key.times(u64::from(v.count)));
                if let Some(d) = v.days {
                    days[usize::from(!m.participant)].push(d);
                }
            } else {
                g.no += 1;
                g.no_key = g.no_key.plus(key);
            }
        }
        let c = &indicator.config;
        let mut report = IndicatorReport {
            name: c.name.clone(),
            label: c.title().to_owned(),
            kind: c.kind,
            dataset: c.dataset.clone(),
            window: {
                let (a, b) = c.days();
                [a, b]
            },
            as_of: indicator.as_of.to_string(),
            groups: Vec::new(),
            difference: None,
            notes: Vec::new(),
        };
        if c.kind == OutcomeKind::TimeToFirst {
            report.notes.push(
                "the rate is the share with a first event within the window; cohort.parquet has the days to it, censored at the window's end"
                    .to_owned(),
            );
        }
        let all = groups[0].plus(groups[1]);
        let mut all_days: Vec<i32> = days.concat();
        if compared {
            let (p, q) = (groups[0], groups[1]);
            let table = Table {
                cells: vec![p.yes, p.no, p.open, q.yes, q.no, q.open],
                sums: vec![
                    vec![0, 1],
                    vec![3, 4],
                    vec![0, 1, 2],
                    vec![3, 4, 5],
                    vec![0, 3],
                    vec![1, 4],
                    vec![2, 5],
                    vec![0, 1, 3, 4],
                    vec![0, 1, 2, 3, 4, 5],
                ],
                fixed: vec![8, 9, 14],
                keys: vec![
                    p.yes_key, p.no_key, p.open_key, q.yes_key, q.no_key, q.open_key,
                ],
            };
            let pr = table.protect(&r);
            // Items: (numerator, without, open, denominator, persons).
            let layout = [(0, 1, 2, 6, 8), (3, 4, 5, 7, 9), (10, 11, 12, 13, 14)];
            let [d0, d1] = &mut days;
            for (g, (name, counts, d)) in [
                ("participant", p, d0),
                ("comparison", q, d1),
                ("all", all, &mut all_days),
            ]
            .into_iter()
            .enumerate()
            {
                report
                    .groups
                    .push(group(name, &pr, layout[g], counts, d, c.kind, &count, &r));
            }
            report.difference = Some(difference(&report.groups[0], &report.groups[1]));
        } else {
            let table = Table {
                cells: vec![all.yes, all.no, all.open],
                sums: vec![vec![0, 1], vec![0, 1, 2]],
                fixed: vec![4],
                keys: vec![all.yes_key, all.no_key, all.open_key],
            };
            let pr = table.protect(&r);
            report.groups.push(group(
                "all",
                &pr,
                (0, 1, 2, 3, 4),
                all,
                &mut all_days,
                c.kind,
                &count,
                &r,
            ));
        }
        out.indicators.push(report);
    }
    out
}

#[allow(clippy::too_many_arguments, reason = "one call site per table layout")]
fn group(
    name: &str,
    p: &Protected,
    (yes, no, open, den, persons): (usize, usize, usize, usize, usize),
    counts: Counts,
    days: &mut [i32],
    kind: OutcomeKind,
    count: &dyn Fn(&Protected, usize) -> Count,
    rules: &Rules,
) -> GroupResult {
    let numerator = count(p, yes);
    let denominator = count(p, den);
    let rate = rate_counts(&numerator, &denominator).map(|(x, n)| stats::wilson(x, n));
    let published_yes = numerator.value().filter(|v| *v >= rules.min_cell);
    let (events, events_per_person) = if kind == OutcomeKind::Count {
        match (published_yes, denominator.value()) {
            (Some(_), Some(n)) if n > 0 => {
                // Events are a count of events, each carrying its person's
                // record key: one more event moves the key as one more
                // person does.
                let e = rules.publish(counts.events, counts.events_key);
                (Some(Count::Value(e)), Some(e as f64 / n as f64))
            }
            _ => (
                Some(Count::Suppressed(
                    Suppression::Secondary.explain(rules.min_cell),
                )),
                None,
            ),
        }
    } else {
        (None, None)
    };
    let median = (kind == OutcomeKind::TimeToFirst && published_yes.is_some() && !days.is_empty())
        .then(|| {
            days.sort_unstable();
            let n = days.len();
            if n % 2 == 1 {
                f64::from(days[n / 2])
            } else {
                (f64::from(days[n / 2 - 1]) + f64::from(days[n / 2])) / 2.0
            }
        });
    GroupResult {
        group: name.to_owned(),
        persons: count(p, persons),
        not_yet_followed_up: count(p, open),
        denominator,
        numerator,
        without: count(p, no),
        rate,
        events,
        events_per_person,
        median_days_to_first_event: median,
    }
}

/// The published numerator and denominator of a rate, when both are
/// published and the denominator is not zero; a numerator perturbed above
/// its denominator is taken as equal to it.
fn rate_counts(numerator: &Count, denominator: &Count) -> Option<(u64, u64)> {
    match (numerator.value(), denominator.value()) {
        (Some(x), Some(n)) if n > 0 => Some((x.min(n), n)),
        _ => None,
    }
}

fn difference(a: &GroupResult, b: &GroupResult) -> Difference {
    let counts = |g: &GroupResult| rate_counts(&g.numerator, &g.denominator);
    match (counts(a), counts(b), a.rate, b.rate) {
        (Some((x1, n1)), Some((x2, n2)), Some(ra), Some(rb)) => Difference::Estimate {
            interval: stats::newcombe(ra, rb),
            test: stats::test(x1, n1, x2, n2),
        },
        _ => Difference::Withheld(
            "a group's numerator or denominator is suppressed or zero".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports published before issue 17 (read back for the page's trends)
    /// were rounded, and say so by their `rounding`.
    #[test]
    fn an_older_reports_disclosure_reads_as_rounding() {
        let old = r#"{"min_cell":10,"rounding":5,"min_cohort":60,"date_precision":"month","statement":"…"}"#;
        let d: DisclosureSummary = serde_json::from_str(old).expect("an older summary parses");
        assert_eq!(d.method, DisclosureMethod::Round);
        assert_eq!(d.rounding, Some(5));
        assert_eq!(d.key_range, None);
    }

    #[test]
    fn the_summary_describes_the_cell_key_method() {
        let d = DisclosureSummary::of(&DisclosureConfig::default());
        let json = serde_json::to_value(&d).expect("serialises");
        assert_eq!(json["method"], "cell_key");
        assert_eq!(json["key_range"], 256);
        assert_eq!(json["max_perturbation"], 2);
        assert_eq!(json["ptable"], ptable::PTABLE_NAME);
        assert_eq!(json["totals_additive"], false);
        assert!(json.get("rounding").is_none(), "{json}");
        assert!(
            d.statement
                .contains("totals need not equal the sum of their parts")
        );
    }
}
