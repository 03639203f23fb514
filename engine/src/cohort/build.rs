//! From linked records to the cohort: who is in it (the index event and the
//! filters), which group each person is in, and each outcome indicator per
//! person. Pure computation over [`Records`] and the run's clustering.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field};
use chrono::{Datelike, NaiveDate};

use super::config::{CohortConfig, ComparisonMethod, Filter, OutcomeConfig, OutcomeKind, Rule};
use super::evaluation::Comparison;
use super::report::ParticipationSummary;
use crate::linkage::{Linkage, Records};

/// Why a cohort could not be built (a definition the data does not fit).
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("cohort: dataset `{0}` has no uploaded version, so the cohort cannot be built")]
    NoData(String),
    #[error("cohort: dataset `{dataset}` has no attribute `{column}`")]
    NoAttribute { dataset: String, column: String },
    #[error("cohort: dataset `{dataset}`: {source}")]
    Filter {
        dataset: String,
        source: super::config::FilterError,
    },
    #[error("cohort: {0}")]
    Date(#[from] super::config::DateError),
}

/// One attribute column of one dataset, in dataset row order.
#[derive(Debug)]
pub struct Column {
    pub field: Field,
    chunks: Vec<ArrayRef>,
    starts: Vec<usize>,
}

impl Column {
    /// The chunk holding `row`, and the row within that chunk.
    pub fn locate(&self, row: usize) -> (&ArrayRef, usize) {
        let c = self.starts.partition_point(|s| *s <= row) - 1;
        (&self.chunks[c], row - self.starts[c])
    }

    /// The value of a date column (days since 1970-01-01).
    pub fn date(&self, row: usize) -> Option<i32> {
        let (a, i) = self.locate(row);
        a.is_valid(i)
            .then(|| a.as_primitive::<Date32Type>().value(i))
    }

    /// One value as an Arrow array of length one (for copying out).
    pub fn slice(&self, row: usize) -> ArrayRef {
        let (a, i) = self.locate(row);
        a.slice(i, 1)
    }

    fn test(&self, row: usize, rule: &Rule, index_date: Option<i32>) -> bool {
        let (a, i) = self.locate(row);
        if !a.is_valid(i) {
            return false;
        }
        match (rule, a.data_type()) {
            (Rule::DateRange { from, to }, DataType::Date32) => {
                let d = a.as_primitive::<Date32Type>().value(i);
                from.is_none_or(|f| d >= day_number(&f)) && to.is_none_or(|t| d <= day_number(&t))
            }
            (Rule::Age { min, max }, DataType::Date32) => {
                let (Some(born), Some(at)) = (
                    date(a.as_primitive::<Date32Type>().value(i)),
                    index_date.and_then(date),
                ) else {
                    return false;
                };
                let age = years_between(born, at);
                age >= i64::from(*min) && age <= i64::from(*max)
            }
            (Rule::NumberRange { min, max }, t) => {
                let v = match t {
                    DataType::Int64 => a.as_primitive::<Int64Type>().value(i) as f64,
                    DataType::Float64 => a.as_primitive::<Float64Type>().value(i),
                    _ => return false,
                };
                min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
            }
            (Rule::OneOf(values), DataType::Utf8) => {
                let v = a.as_string::<i32>().value(i);
                values.iter().any(|w| w == v)
            }
            (Rule::Is(b), DataType::Boolean) => a.as_boolean().value(i) == *b,
            _ => false,
        }
    }
}

/// The records of one dataset within a run.
#[derive(Debug)]
struct DatasetView<'r> {
    records: &'r Records,
    index: usize,
    /// Global record index of its first row.
    offset: usize,
    len: usize,
}

impl<'r> DatasetView<'r> {
    fn find(records: &'r Records, name: &str) -> Result<Self, CohortError> {
        let index = records
            .datasets
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| CohortError::NoData(name.to_owned()))?;
        let offset = records.dataset.partition_point(|d| (*d as usize) < index);
        let len = records.dataset[offset..].partition_point(|d| *d as usize == index);
        Ok(DatasetView {
            records,
            index,
            offset,
            len,
        })
    }

    fn name(&self) -> &str {
        &self.records.datasets[self.index].name
    }

    fn column(&self, name: &str) -> Result<Column, CohortError> {
        let input = &self.records.datasets[self.index];
        let position = input
            .attribute_schema
            .iter()
            .position(|f| f.name() == name)
            .ok_or_else(|| CohortError::NoAttribute {
                dataset: input.name.clone(),
                column: name.to_owned(),
            })?;
        let mut starts = Vec::with_capacity(input.attributes.len());
        let mut at = 0;
        let chunks = input
            .attributes
            .iter()
            .map(|b| {
                starts.push(at);
                at += b.num_rows();
                b.column(position).clone()
            })
            .collect();
        if starts.is_empty() {
            starts.push(0);
        }
        Ok(Column {
            field: input.attribute_schema[position].clone(),
            chunks,
            starts,
        })
    }

    fn filters(&self, filters: &[Filter]) -> Result<Vec<(Column, Rule)>, CohortError> {
        filters
            .iter()
            .map(|f| {
                let rule = f.rule().map_err(|source| CohortError::Filter {
                    dataset: self.name().to_owned(),
                    source,
                })?;
                Ok((self.column(&f.attribute)?, rule))
            })
            .collect()
    }
}

/// One person of the cohort.
#[derive(Debug, Clone)]
pub struct Member {
    pub person_id: String,
    pub participant: bool,
    /// The index date, in days since 1970-01-01.
    pub index_date: i32,
    /// Row of the index record within the index dataset.
    pub index_row: usize,
}

/// One indicator for one person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Value {
    /// The window (or the day) ended on or before the follow-up date.
    pub closed: bool,
    /// An event seen in the window up to the follow-up date (or the status
    /// held on the day, once the day has passed).
    pub hit: bool,
    /// Events in the window (`count`), observed up to the follow-up date.
    pub count: u32,
    /// `time_to_first`: days to the first event, or to the end of the
    /// window when none (censored); `None` while the window is open and no
    /// event has been seen.
    pub days: Option<i32>,
}

/// One indicator over the cohort.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub config: OutcomeConfig,
    pub as_of: NaiveDate,
    /// One per member, in member order.
    pub values: Vec<Value>,
    /// The same indicator over its baseline window (issue 18), when it has one.
    pub baseline: Option<Vec<Value>>,
}

/// A prior-history covariate: each member's count of linked records in the
/// window before the index date.
#[derive(Debug, Clone)]
pub struct Prior {
    pub name: String,
    /// One per member, in member order.
    pub counts: Vec<u32>,
}

/// The cohort of a run.
#[derive(Debug)]
pub struct Cohort {
    /// Sorted by person identifier.
    pub members: Vec<Member>,
    /// The declared cohort attributes of the index dataset, then any
    /// covariate not declared among them.
    pub attributes: Vec<Column>,
    /// The prior-history covariates.
    pub priors: Vec<Prior>,
    pub indicators: Vec<Indicator>,
    /// The participation rule that made the participants, for the report.
    pub participation: Option<ParticipationSummary>,
    /// How the project asked to compare.
    pub comparison_method: ComparisonMethod,
    /// The propensity model and the matched comparison group, when the
    /// project compares with one (and both groups have people).
    pub comparison: Option<Comparison>,
}

/// Builds the cohort. `as_of(dataset)` is the follow-up date of indicators
/// over that dataset when the config sets none.
pub fn build(
    records: &Records,
    linkage: &Linkage,
    cohort: &CohortConfig,
    outcomes: &[OutcomeConfig],
    as_of: &HashMap<String, NaiveDate>,
) -> Result<Cohort, CohortError> {
    build_over(
        records,
        &linkage.clustering.cluster,
        &linkage.person_ids,
        cohort,
        outcomes,
        as_of,
    )
}

/// [`build`] over a clustering given as each record's cluster number and
/// each cluster's person identifier.
pub fn build_over(
    records: &Records,
    cluster: &[u32],
    person_ids: &[String],
    cohort: &CohortConfig,
    outcomes: &[OutcomeConfig],
    as_of: &HashMap<String, NaiveDate>,
) -> Result<Cohort, CohortError> {
    let clusters = person_ids.len();

    // The index event: each person's earliest index record passing the filters.
    let index = DatasetView::find(records, &cohort.index_dataset)?;
    let index_date = index.column(&cohort.index_date)?;
    let filters = index.filters(&cohort.filters)?;
    let mut best: Vec<Option<(i32, usize)>> = vec![None; clusters];
    for row in 0..index.len {
        let Some(d) = index_date.date(row) else {
            continue;
        };
        if !filters.iter().all(|(c, r)| c.test(row, r, Some(d))) {
            continue;
        }
        let c = cluster[index.offset + row] as usize;
        if best[c].is_none_or(|b| (d, row) < b) {
            best[c] = Some((d, row));
        }
    }

    // Participants: linked to a (flagged) record of the participants
    // dataset — dated within the participation window around the index
    // date when the project sets one (issue 18), else whenever.
    let participants = DatasetView::find(records, &cohort.participants_dataset)?;
    let flag = cohort
        .participants_flag
        .as_deref()
        .map(|f| participants.column(f))
        .transpose()?;
    let timing = cohort
        .participation
        .as_ref()
        .map(|p| Ok::<_, CohortError>((participants.column(&p.date)?, p.window)))
        .transpose()?;
    let mut participant = vec![false; clusters];
    for row in 0..participants.len {
        let c = cluster[participants.offset + row] as usize;
        if !flag
            .as_ref()
            .is_none_or(|f| f.test(row, &Rule::Is(true), None))
        {
            continue;
        }
        let in_window = match (&timing, best[c]) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((date, [from, to])), Some((index, _))) => date.date(row).is_some_and(|d| {
                let days = i64::from(d) - i64::from(index);
                days >= *from && days <= *to
            }),
        };
        if in_window {
            participant[c] = true;
        }
    }

    let mut members: Vec<(usize, Member)> = best
        .iter()
        .enumerate()
        .filter_map(|(c, b)| {
            b.map(|(d, row)| {
                (
                    c,
                    Member {
                        person_id: person_ids[c].clone(),
                        participant: participant[c],
                        index_date: d,
                        index_row: row,
                    },
                )
            })
        })
        .collect();
    members.sort_by(|a, b| a.1.person_id.cmp(&b.1.person_id));

    // The declared attributes, then any covariate not among them (so that
    // cohort.parquet carries every covariate the propensity model reads).
    let mut names: Vec<&String> = cohort.attributes.iter().collect();
    for v in cohort.comparison.covariates.iter().flatten() {
        if !names.contains(&v) {
            names.push(v);
        }
    }
    let attributes: Vec<Column> = names
        .into_iter()
        .map(|a| index.column(a))
        .collect::<Result<_, _>>()?;

    // Prior history: linked records in a window before the index date.
    let mut priors = Vec::with_capacity(cohort.comparison.prior.len());
    for p in &cohort.comparison.prior {
        let config = OutcomeConfig {
            name: p.name.clone(),
            label: None,
            kind: OutcomeKind::Count,
            dataset: p.dataset.clone(),
            date: Some(p.date.clone()),
            window: Some(p.window),
            start: None,
            end: None,
            day: None,
            filters: Vec::new(),
            baseline: false,
            baseline_window: None,
        };
        let view = DatasetView::find(records, &p.dataset)?;
        let values = indicator(&view, cluster, clusters, &members, &config, i32::MAX)?;
        priors.push(Prior {
            name: p.name.clone(),
            counts: values.iter().map(|v| v.count).collect(),
        });
    }

    let mut indicators = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let view = DatasetView::find(records, &outcome.dataset)?;
        let follow_up = match &cohort.as_of {
            Some(text) => super::config::parse_date(text, "cohort.as_of")?,
            None => *as_of
                .get(&outcome.dataset)
                .ok_or_else(|| CohortError::NoData(outcome.dataset.clone()))?,
        };
        let values = indicator(
            &view,
            cluster,
            clusters,
            &members,
            outcome,
            day_number(&follow_up),
        )?;
        let baseline = outcome
            .as_baseline()
            .map(|b| {
                indicator(
                    &view,
                    cluster,
                    clusters,
                    &members,
                    &b,
                    day_number(&follow_up),
                )
            })
            .transpose()?;
        indicators.push(Indicator {
            config: outcome.clone(),
            as_of: follow_up,
            values,
            baseline,
        });
    }
    let mut built = Cohort {
        members: members.into_iter().map(|(_, m)| m).collect(),
        attributes,
        priors,
        indicators,
        participation: Some(ParticipationSummary::of(cohort)),
        comparison_method: cohort.comparison.method,
        comparison: None,
    };
    built.comparison = super::evaluation::evaluate(&built, cohort);
    Ok(built)
}

/// Each member's value of one indicator.
fn indicator(
    view: &DatasetView<'_>,
    cluster: &[u32],
    clusters: usize,
    members: &[(usize, Member)],
    outcome: &OutcomeConfig,
    as_of: i32,
) -> Result<Vec<Value>, CohortError> {
    let filters = view.filters(&outcome.filters)?;
    let spell = outcome.kind == OutcomeKind::StatusOnDay;
    let start = view.column(
        if spell {
            outcome.start.as_deref()
        } else {
            outcome.date.as_deref()
        }
        .expect("checked with the project config"),
    )?;
    let end = match (&outcome.end, spell) {
        (Some(e), true) => Some(view.column(e)?),
        _ => None,
    };
    // Index dates by cluster, for filters on age.
    let mut index_of = vec![None; clusters];
    for (c, m) in members {
        index_of[*c] = Some(m.index_date);
    }
    // Events (or spells) grouped by cluster: (cluster, start, end).
    let mut events: Vec<(u32, i32, i32)> = Vec::new();
    for row in 0..view.len {
        let c = cluster[view.offset + row];
        let Some(at) = index_of[c as usize] else {
            continue;
        };
        let Some(s) = start.date(row) else {
            continue;
        };
        if !filters.iter().all(|(col, r)| col.test(row, r, Some(at))) {
            continue;
        }
        let e = end.as_ref().and_then(|e| e.date(row)).unwrap_or(i32::MAX);
        events.push((c, s, e));
    }
    events.sort_unstable();
    let (from, to) = outcome.days();
    let (from, to) = (from as i32, to as i32);
    Ok(members
        .iter()
        .map(|(c, m)| {
            let lo = events.partition_point(|e| e.0 < *c as u32);
            let hi = events.partition_point(|e| e.0 <= *c as u32);
            let mine = &events[lo..hi];
            let t0 = m.index_date;
            let closed = i64::from(t0) + i64::from(to) <= i64::from(as_of);
            if spell {
                let day = t0 + from;
                let hit = mine.iter().any(|&(_, s, e)| s <= day && e >= day);
                return Value {
                    closed,
                    hit: hit && closed,
                    ..Value::default()
                };
            }
            let in_window: Vec<i32> = mine
                .iter()
                .map(|&(_, s, _)| s - t0)
                .filter(|&d| d >= from && d <= to && t0 + d <= as_of)
                .collect();
            let first = in_window.iter().min().copied();
            Value {
                closed,
                hit: first.is_some(),
                count: in_window.len() as u32,
                days: match (first, closed) {
                    (Some(d), _) => Some(d),
                    (None, true) => Some(to),
                    (None, false) => None,
                },
            }
        })
        .collect())
}

/// Days since 1970-01-01 (Arrow's `Date32`).
pub fn day_number(date: &NaiveDate) -> i32 {
    (*date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")).num_days() as i32
}

/// The date of a `Date32` value.
pub fn date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// Whole years from `born` to `at`.
fn years_between(born: NaiveDate, at: NaiveDate) -> i64 {
    let mut years = i64::from(at.year() - born.year());
    if (at.month(), at.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_whole_years() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("valid");
        assert_eq!(years_between(d(2000, 3, 10), d(2024, 3, 9)), 23);
        assert_eq!(years_between(d(2000, 3, 10), d(2024, 3, 10)), 24);
        assert_eq!(date(day_number(&d(2024, 2, 29))), Some(d(2024, 2, 29)));
        assert_eq!(day_number(&d(1970, 1, 2)), 1);
    }
}
