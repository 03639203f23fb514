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

use super::build::{Cohort, Value};
use super::comparison_report::{ComparisonReport, comparison_report};
use super::config::{CohortConfig, DatePrecision, DisclosureConfig, DisclosureMethod, OutcomeKind};
use super::disclosure::{Protected, Rules, Suppression, Table};
use super::evaluation::Role;
use super::ptable::{self, CellKey};
use super::stats::{self, Interval, Test};
use super::survival::{self, Curve};

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
    /// Who counts as a participant (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participation: Option<ParticipationSummary>,
    /// How participants are compared: the propensity model, the matching
    /// and the balance table (issue 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonReport>,
    pub indicators: Vec<IndicatorReport>,
}

/// The participation rule that applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipationSummary {
    /// `window` or `ever_linked`.
    pub rule: String,
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<[i64; 2]>,
    pub statement: String,
}

impl ParticipationSummary {
    pub fn of(config: &CohortConfig) -> ParticipationSummary {
        let flagged = config
            .participants_flag
            .as_ref()
            .map(|f| format!(" where `{f}` is true"))
            .unwrap_or_default();
        let (rule, statement) = match &config.participation {
            Some(p) => {
                let [a, b] = p.window;
                let days = |d: i64| {
                    if d == 1 {
                        "1 day".to_owned()
                    } else {
                        format!("{d} days")
                    }
                };
                let day = |d: i64| match d {
                    0 => "the index date".to_owned(),
                    d if d < 0 => format!("{} before the index date", days(-d)),
                    d => format!("{} after the index date", days(d)),
                };
                (
                    "window",
                    format!(
                        "a participant is linked to a record of `{}`{flagged} whose `{}` is from {} to {}; everyone else in the cohort is in the comparison pool",
                        config.participants_dataset,
                        p.date,
                        day(a),
                        day(b)
                    ),
                )
            }
            None => (
                "ever_linked",
                format!(
                    "a participant is linked to any record of `{}`{flagged}, whenever dated (no participation window is set); everyone else in the cohort is in the comparison pool",
                    config.participants_dataset
                ),
            ),
        };
        ParticipationSummary {
            rule: rule.to_owned(),
            dataset: config.participants_dataset.clone(),
            flag: config.participants_flag.clone(),
            date: config.participation.as_ref().map(|p| p.date.clone()),
            window: config.participation.as_ref().map(|p| p.window),
            statement,
        }
    }
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
    /// Under matching: participants with a match, and the comparison
    /// people matched to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_participant: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_comparison: Option<Count>,
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
    /// `participant`, `comparison` (when compared), `matched_participant`
    /// and `matched_comparison` (under matching), and `all`.
    pub groups: Vec<GroupResult>,
    /// The group the primary difference is taken against:
    /// `matched_comparison` (its participants `matched_participant`) or
    /// `comparison` (against `participant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
    /// The primary difference: (matched) participants minus the
    /// `compared_with` group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference: Option<Difference>,
    /// Under matching, the secondary line: all participants minus the
    /// whole comparison group, before matching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_difference: Option<Difference>,
    /// Each group's own rate over the baseline window before the index
    /// date, when the indicator asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineReport>,
    /// `time_to_first`: a Kaplan–Meier curve per group shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survival: Vec<Curve>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An indicator over its baseline window (before the index date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineReport {
    pub window: [i64; 2],
    pub groups: Vec<GroupResult>,
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
        participation: cohort.participation.clone(),
        comparison: None,
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
    let layout = Layout::of(cohort);
    let part_of: Vec<usize> = (0..cohort.members.len())
        .map(|i| layout.part(cohort, i))
        .collect();
    // Group sizes: one table over the parts, printed once, fixed in every
    // indicator table. Under matching, the matched groups are kept
    // published when they are not small (secondary suppression then takes
    // the wider groups), so that the primary comparison survives a small
    // remainder.
    let mut part_sizes = vec![0u64; layout.parts];
    let mut part_keys = vec![CellKey::default(); layout.parts];
    for (i, &k) in record_keys.iter().enumerate() {
        part_sizes[part_of[i]] += 1;
        part_keys[part_of[i]] = part_keys[part_of[i]].plus(k);
    }
    let mut sizes_builder = Items::new(layout.parts);
    let size_items: Vec<usize> = layout
        .groups
        .iter()
        .map(|(_, parts)| sizes_builder.item(parts.clone()))
        .collect();
    let total_item = size_items[layout.groups.len() - 1];
    let mut fixed = vec![total_item];
    for (g, (name, parts)) in layout.groups.iter().enumerate() {
        let size: u64 = parts.iter().map(|&p| part_sizes[p]).sum();
        if name.starts_with("matched_") && size >= rules.min_cell {
            fixed.push(size_items[g]);
        }
    }
    let sizes = Table {
        cells: part_sizes,
        sums: sizes_builder.sums.clone(),
        fixed,
        keys: part_keys,
    }
    .protect(&r);
    let count = |p: &Protected, i: usize| match p.items[i] {
        Ok(v) => Count::Value(v),
        Err(s) => Count::Suppressed(s.explain(rules.min_cell)),
    };
    let size_of = |name: &str| {
        layout
            .groups
            .iter()
            .position(|(n, _)| *n == name)
            .map(|g| count(&sizes, size_items[g]))
    };
    out.cohort = Some(GroupSizes {
        persons: size_of("all").expect("the layout has everyone"),
        participant: size_of("participant").expect("the layout has participants"),
        comparison: size_of("comparison").expect("the layout has the comparison group"),
        matched_participant: size_of("matched_participant"),
        matched_comparison: size_of("matched_comparison"),
    });
    let published = |name: &str| size_of(name).is_some_and(|c| c.value().is_some());
    // The pairs compared: the primary, then the secondary line.
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if layout.matched {
        pairs.push(("matched_participant", "matched_comparison"));
    }
    pairs.push(("participant", "comparison"));
    pairs.retain(|(a, b)| published(a) && published(b));
    // The groups shown: those of a published pair, and everyone.
    let shown: Vec<usize> = layout
        .groups
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| {
            *name == "all" || pairs.iter().any(|(a, b)| a == name || b == name)
        })
        .map(|(g, _)| g)
        .collect();
    if pairs.is_empty() {
        out.groups_withheld = Some(format!(
            "one group has fewer than {} people: indicators are given for the whole cohort only",
            rules.min_cell
        ));
    } else if layout.matched && pairs.len() == 1 && pairs[0].0 == "participant" {
        out.groups_withheld = Some(format!(
            "a matched group has fewer than {} people: participants are compared with the whole comparison group only",
            rules.min_cell
        ));
    } else if layout.matched && pairs.len() == 1 {
        out.groups_withheld = Some(
            "the whole groups are withheld so that the few people left out of the matching cannot be worked out: only the matched groups are compared"
                .to_owned(),
        );
    }
    out.comparison = Some(match &cohort.comparison {
        Some(c) => {
            // Part 1 is the unmatched participants.
            comparison_report(c, record_keys, rules, &r, count(&sizes, 1))
        }
        None => ComparisonReport::unmatched(cohort),
    });
    // The indicator tables hold the shown groups only (each size published
    // above, and fixed), over the coarsest parts that tell them apart: a
    // group withheld above is in no table, and the parts only it told apart
    // are merged. With no pair to compare, that is everyone alone (as the
    // tables before issue 18 were).
    let (layout, merged) = layout.coarsen(&shown);
    let part_of: Vec<usize> = part_of.iter().map(|&p| merged[p]).collect();
    let shown: Vec<usize> = (0..layout.groups.len()).collect();
    for indicator in &cohort.indicators {
        let c = &indicator.config;
        let tabulate = |values: &[Value]| {
            tabulate(
                values,
                &part_of,
                record_keys,
                &layout,
                &shown,
                c.kind,
                &count,
                &r,
            )
        };
        let groups = tabulate(&indicator.values);
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
            groups,
            compared_with: None,
            difference: None,
            secondary_difference: None,
            baseline: None,
            survival: Vec::new(),
            notes: Vec::new(),
        };
        if c.kind == OutcomeKind::TimeToFirst {
            let times = survival::times(indicator, &cohort.members);
            report.survival = shown
                .iter()
                .map(|&g| {
                    let (name, parts) = &layout.groups[g];
                    let members: Vec<usize> = (0..part_of.len())
                        .filter(|&i| parts.contains(&part_of[i]))
                        .collect();
                    survival::curve(name, &times, &members, record_keys, c.days(), &r)
                })
                .collect();
        }
        if c.kind == OutcomeKind::TimeToFirst {
            report.notes.push(
                "the rate is the share with a first event within the window; cohort.parquet has the days to it, censored at the window's end"
                    .to_owned(),
            );
        }
        let find = |groups: &[GroupResult], name: &str| groups.iter().position(|g| g.group == name);
        for (k, (a, b)) in pairs.iter().enumerate() {
            let (Some(i), Some(j)) = (find(&report.groups, a), find(&report.groups, b)) else {
                continue;
            };
            let d = difference(&report.groups[i], &report.groups[j]);
            if k == 0 {
                report.compared_with = Some((*b).to_owned());
                report.difference = Some(d);
            } else {
                report.secondary_difference = Some(d);
            }
        }
        if let (Some(values), Some((a, b))) = (&indicator.baseline, c.baseline_days()) {
            report.baseline = Some(BaselineReport {
                window: [a, b],
                groups: tabulate(values),
            });
        }
        out.indicators.push(report);
    }
    out
}

/// How the cohort is partitioned for the tables: disjoint parts, and the
/// published groups as unions of parts (the last one everyone).
#[derive(Debug, Clone)]
struct Layout {
    parts: usize,
    groups: Vec<(&'static str, Vec<usize>)>,
    matched: bool,
}

impl Layout {
    fn of(cohort: &Cohort) -> Layout {
        if cohort.comparison.is_some() {
            // Parts: matched participants, unmatched participants, matched
            // comparison, unmatched comparison.
            Layout {
                parts: 4,
                groups: vec![
                    ("participant", vec![0, 1]),
                    ("comparison", vec![2, 3]),
                    ("matched_participant", vec![0]),
                    ("matched_comparison", vec![2]),
                    ("all", vec![0, 1, 2, 3]),
                ],
                matched: true,
            }
        } else {
            Layout {
                parts: 2,
                groups: vec![
                    ("participant", vec![0]),
                    ("comparison", vec![1]),
                    ("all", vec![0, 1]),
                ],
                matched: false,
            }
        }
    }

    /// The layout of `keep` (group indices) alone, over the coarsest
    /// parts that tell them apart, and each old part's new part.
    fn coarsen(&self, keep: &[usize]) -> (Layout, Vec<usize>) {
        let signature = |p: usize| -> Vec<bool> {
            keep.iter()
                .map(|&g| self.groups[g].1.contains(&p))
                .collect()
        };
        let mut seen: Vec<Vec<bool>> = Vec::new();
        let merged: Vec<usize> = (0..self.parts)
            .map(|p| {
                let s = signature(p);
                seen.iter().position(|x| *x == s).unwrap_or_else(|| {
                    seen.push(s);
                    seen.len() - 1
                })
            })
            .collect();
        let groups = keep
            .iter()
            .map(|&g| {
                let (name, parts) = &self.groups[g];
                let mut new: Vec<usize> = parts.iter().map(|&p| merged[p]).collect();
                new.sort_unstable();
                new.dedup();
                (*name, new)
            })
            .collect();
        (
            Layout {
                parts: seen.len(),
                groups,
                matched: self.matched,
            },
            merged,
        )
    }

    fn part(&self, cohort: &Cohort, member: usize) -> usize {
        match &cohort.comparison {
            Some(c) => match c.role[member] {
                Role::MatchedParticipant => 0,
                Role::UnmatchedParticipant => 1,
                Role::MatchedComparison => 2,
                Role::UnmatchedComparison => 3,
            },
            None => usize::from(!cohort.members[member].participant),
        }
    }
}

/// Builds a table's items: a set of cells is the cell itself when it is
/// one, else a sum (each distinct sum once).
struct Items {
    cells: usize,
    sums: Vec<Vec<usize>>,
}

impl Items {
    fn new(cells: usize) -> Items {
        Items {
            cells,
            sums: Vec::new(),
        }
    }

    fn item(&mut self, mut cells: Vec<usize>) -> usize {
        cells.sort_unstable();
        if let [one] = cells[..] {
            return one;
        }
        if let Some(i) = self.sums.iter().position(|s| *s == cells) {
            return self.cells + i;
        }
        self.sums.push(cells);
        self.cells + self.sums.len() - 1
    }
}

/// One indicator (or its baseline) per shown group: a table of yes / no /
/// open per part, each group's items as sums of parts.
#[allow(clippy::too_many_arguments, reason = "the report's context, passed in")]
fn tabulate(
    values: &[Value],
    part_of: &[usize],
    record_keys: &[CellKey],
    layout: &Layout,
    shown: &[usize],
    kind: OutcomeKind,
    count: &dyn Fn(&Protected, usize) -> Count,
    r: &Rules,
) -> Vec<GroupResult> {
    let mut parts = vec![Counts::default(); layout.parts];
    let mut days: Vec<Vec<i32>> = vec![Vec::new(); layout.parts];
    for ((v, &key), &p) in values.iter().zip(record_keys).zip(part_of) {
        let g = &mut parts[p];
        if !v.closed {
            g.open += 1;
            g.open_key = g.open_key.plus(key);
        } else if v.hit {
            g.yes += 1;
            g.yes_key = g.yes_key.plus(key);
            g.events += u64::from(v.count);
            g.events_key = g.events_key.plus(key.times(u64::from(v.count)));
            if let Some(d) = v.days {
                days[p].push(d);
            }
        } else {
            g.no += 1;
            g.no_key = g.no_key.plus(key);
        }
    }
    let mut items = Items::new(3 * layout.parts);
    let cells_of = |parts: &[usize], which: &[usize]| -> Vec<usize> {
        parts
            .iter()
            .flat_map(|p| which.iter().map(move |w| 3 * p + w))
            .collect()
    };
    // Per group: (numerator, without, open, denominator, persons).
    let group_items: Vec<(usize, usize, usize, usize, usize)> = layout
        .groups
        .iter()
        .map(|(_, ps)| {
            (
                items.item(cells_of(ps, &[0])),
                items.item(cells_of(ps, &[1])),
                items.item(cells_of(ps, &[2])),
                items.item(cells_of(ps, &[0, 1])),
                items.item(cells_of(ps, &[0, 1, 2])),
            )
        })
        .collect();
    let cells: Vec<u64> = parts.iter().flat_map(|c| [c.yes, c.no, c.open]).collect();
    // Every shown group's size was published with the group sizes. Under
    // matching, the matched groups' counts that are not small are kept too,
    // so that secondary suppression takes the wider groups' and the
    // remainder's counts rather than the primary comparison's.
    let mut fixed: Vec<usize> = shown.iter().map(|&g| group_items[g].4).collect();
    let values = Table {
        cells: cells.clone(),
        sums: items.sums.clone(),
        fixed: Vec::new(),
        keys: Vec::new(),
    }
    .values();
    // Only a group none of whose counts is small: otherwise one of them is
    // suppressed, and with the group's size published the others must give
    // way too.
    let safe = |i: usize| values[i] == 0 || values[i] >= r.min_cell;
    for &g in shown {
        let (a, b, c, d, _) = group_items[g];
        if layout.groups[g].0.starts_with("matched_") && [a, b, c, d].into_iter().all(safe) {
            fixed.extend([a, b, c, d]);
        }
    }
    let table = Table {
        cells,
        sums: items.sums,
        fixed,
        keys: parts
            .iter()
            .flat_map(|c| [c.yes_key, c.no_key, c.open_key])
            .collect(),
    };
    let pr = table.protect(r);
    shown
        .iter()
        .map(|&g| {
            let (name, ps) = &layout.groups[g];
            let counts = ps
                .iter()
                .fold(Counts::default(), |acc, &p| acc.plus(parts[p]));
            let mut d: Vec<i32> = ps.iter().flat_map(|&p| days[p].iter().copied()).collect();
            group(name, &pr, group_items[g], counts, &mut d, kind, count, r)
        })
        .collect()
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
#[cfg(test)]
mod matched_tables {
    use super::*;

    /// Issue 18: a small count in one matched group, or in the remainder,
    /// costs that group's and the wider groups' counts, never the group
    /// sizes, and never the other matched group's counts.
    #[test]
    fn a_small_cell_does_not_withhold_the_whole_table() {
        let layout = Layout {
            parts: 3,
            groups: vec![
                ("matched_participant", vec![0]),
                ("matched_comparison", vec![1]),
                ("all", vec![0, 1, 2]),
            ],
            matched: true,
        };
        let rules = DisclosureConfig {
            method: DisclosureMethod::Round,
            rounding: 1,
            ..DisclosureConfig::default()
        };
        let r = rules.rules();
        let count = |p: &Protected, i: usize| match p.items[i] {
            Ok(v) => Count::Value(v),
            Err(s) => Count::Suppressed(s.explain(10)),
        };
        for (mp, rest) in [((40, 70, 25), (3, 600, 130)), ((40, 70, 5), (30, 600, 130))] {
            let mut values = Vec::new();
            let mut part_of = Vec::new();
            for (p, (yes, no, open)) in [mp, (45, 65, 25), rest].into_iter().enumerate() {
                for k in 0..yes + no + open {
                    part_of.push(p);
                    values.push(Value {
                        closed: k < yes + no,
                        hit: k < yes,
                        ..Value::default()
                    });
                }
            }
            let keys = vec![CellKey(0); values.len()];
            let g = tabulate(
                &values,
                &part_of,
                &keys,
                &layout,
                &[0, 1, 2],
                OutcomeKind::AnyEvent,
                &count,
                &r,
            );
            let n = |c: &Count| c.value();
            for group in &g {
                assert!(n(&group.persons).is_some(), "{group:?}");
            }
            assert_eq!(n(&g[1].numerator), Some(45), "{g:?}");
            assert_eq!(n(&g[1].without), Some(65), "{g:?}");
            if mp.2 >= 10 {
                assert_eq!(n(&g[0].numerator), Some(40), "{g:?}");
            }
        }
    }
}
