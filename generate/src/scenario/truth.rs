//! The truth of a scenario's built-in effects (issue 18), for tests only:
//! who truly took part (on time, or a late referral), how the participants
//! differ from everyone else in their covariates, each effect as stated,
//! what it does to the participants' chance of appearing (the effect on the
//! treated), and what a naive comparison of participants with everyone else
//! would show instead. [`Scenario::generate`](super::Scenario::generate)
//! writes it as `effect.json` beside `truth.csv`, and each person's
//! covariates, participation and chances as `persons.csv`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::population::{AltDates, AttributeValue, Content, Draw, Person};

use super::covariates::{CovariateKind, Table};
use super::{GenerateError, Scenario, ScenarioDataset};

/// How a dataset's people are drawn: a coverage per person (empty: the
/// dataset's own), prior rows, late people, and the chances without and
/// with the effect when a model gives them.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub coverage: Vec<f64>,
    pub extra: Vec<u32>,
    pub late: Vec<bool>,
    pub alt: Option<AltDates>,
    pub chances: Option<(Vec<f64>, Vec<f64>)>,
}

impl Plan {
    pub fn draw(&self) -> Draw<'_> {
        Draw {
            coverage: &self.coverage,
            extra: &self.extra,
            late: &self.late,
            alt: self.alt,
        }
    }
}

/// What was drawn for the datasets written so far.
#[derive(Debug, Default)]
pub(super) struct Drawn {
    datasets: Vec<DrawnDataset>,
}

#[derive(Debug)]
struct DrawnDataset {
    name: String,
    /// Appears through its coverage (not only through prior rows).
    members: Vec<bool>,
    late: Vec<bool>,
    chances: Option<(Vec<f64>, Vec<f64>)>,
}

impl Drawn {
    pub fn record(&mut self, d: &ScenarioDataset, members: Vec<bool>, plan: Plan) {
        self.datasets.push(DrawnDataset {
            name: d.spec.name.clone(),
            members,
            late: plan.late,
            chances: plan.chances,
        });
    }

    fn find(&self, name: &str) -> &DrawnDataset {
        self.datasets
            .iter()
            .find(|d| d.name == name)
            .expect("a dataset is only named by one after it: checked when parsed")
    }

    /// Who appears in `name`.
    pub fn members(&self, name: &str) -> &[bool] {
        &self.find(name).members
    }

    /// Who appears in `name` on time: its true participants.
    pub fn participants(&self, name: &str) -> Vec<bool> {
        let d = self.find(name);
        (0..d.members.len())
            .map(|i| d.members[i] && !d.late.get(i).copied().unwrap_or(false))
            .collect()
    }

    fn late(&self, name: &str) -> Vec<bool> {
        let d = self.find(name);
        (0..d.members.len())
            .map(|i| d.members[i] && d.late.get(i).copied().unwrap_or(false))
            .collect()
    }
}

/// `effect.json`.
#[derive(Debug, Clone, Serialize)]
pub struct EffectTruth {
    pub scenario: String,
    pub people: usize,
    /// People in the cohort (`cohort` in the scenario; everyone if unsaid):
    /// every figure below is within it.
    pub cohort: usize,
    pub participants: Vec<ParticipantsRow>,
    pub balance: Vec<BalanceRow>,
    pub effects: Vec<EffectRow>,
}

/// A participants dataset (one that an effect names).
#[derive(Debug, Clone, Serialize)]
pub struct ParticipantsRow {
    pub dataset: String,
    /// People in it (on time or late).
    pub members: usize,
    /// Its true participants: their dates are in the column's own range.
    pub on_time: usize,
    /// Late referrals: dated in `timing`'s range, never treated.
    pub late: usize,
    /// The timing column, its own range and the late range, when it has one.
    pub date: Option<String>,
    pub on_time_dates: Option<[i64; 2]>,
    pub late_dates: Option<[i64; 2]>,
    /// The covariates its `coverage_model` selects on.
    pub selected_by: Vec<String>,
}

/// One covariate (or one value of a choice) compared between a
/// programme's true participants and the people not in it at all.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceRow {
    pub participants: String,
    pub covariate: String,
    /// For a choice: the value whose share is compared.
    pub value: Option<String>,
    /// Whether some extract carries it (a column, or prior rows); a latent
    /// covariate such as a risk score is not observed.
    pub observed: bool,
    pub participants_mean: f64,
    pub others_mean: f64,
    /// Standardised mean difference: (participants − others) over the
    /// pooled standard deviation.
    pub smd: f64,
}

/// A built-in effect on a dataset's coverage, and what comparisons show.
/// Chances are of appearing in the dataset (through its coverage; prior
/// rows aside); "others" are the people in no record of the participants'
/// dataset, late referrals are in neither group.
#[derive(Debug, Clone, Serialize)]
pub struct EffectRow {
    pub dataset: String,
    pub participants: String,
    pub odds_ratio: f64,
    pub participants_n: usize,
    pub others_n: usize,
    /// Mean chance of the true participants, as treated and had they not been.
    pub participants_if_treated: f64,
    pub participants_if_untreated: f64,
    /// The effect on the treated: `participants_if_treated − participants_if_untreated`.
    pub att: f64,
    /// Mean chance of the others.
    pub others_expected: f64,
    /// `participants_if_treated − others_expected`: what comparing the
    /// participants with everyone else estimates.
    pub naive_expected: f64,
    /// `naive_expected − att`: the part of the naive difference that
    /// selection, not the programme, made.
    pub selection_bias: f64,
    /// The shares that did appear, and their difference.
    pub participants_observed: f64,
    pub others_observed: f64,
    pub naive_observed: f64,
    /// The dataset's `date_after_release` columns (the rows' own ranges).
    pub dates: Vec<EventDates>,
    /// Its prior rows' column and range, if it has them.
    pub prior_dates: Option<EventDates>,
    pub duplicate_rate: f64,
}

/// A `date_after_release` column's range and blank share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventDates {
    pub attribute: String,
    pub from: i64,
    pub to: i64,
    pub blank: f64,
}

/// The chance that a person who appears in a dataset (one row, then each
/// further row with chance `duplicate_rate`, at most four more, each dated
/// uniformly in `dates`) has a row dated within `window` (days after
/// release, inclusive): what turns an effect on appearing into an effect
/// on an `any_event` indicator over that window.
pub fn event_share(window: (i64, i64), dates: &EventDates, duplicate_rate: f64) -> f64 {
    let span = (dates.to - dates.from + 1) as f64;
    let overlap = (window.1.min(dates.to) - window.0.max(dates.from) + 1).max(0) as f64;
    let q = (1.0 - dates.blank) * overlap / span;
    let mut share = 0.0;
    let mut p_rows = 1.0 - duplicate_rate;
    for rows in 1..=5 {
        if rows == 5 {
            p_rows = duplicate_rate.powi(4);
        }
        share += p_rows * (1.0 - (1.0 - q).powi(rows));
        p_rows *= duplicate_rate;
    }
    share
}

fn mean_where(values: &[f64], mask: &[bool]) -> (f64, f64, usize) {
    let n = mask.iter().filter(|&&m| m).count();
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    let mean = values
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| v)
        .sum::<f64>()
        / n as f64;
    let var = values
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| (v - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    (mean, var, n)
}

impl EffectTruth {
    /// The truth of `scenario`'s effects, or none when it has none.
    pub(super) fn of(
        scenario: &Scenario,
        people: &[Person],
        table: &Table,
        drawn: &Drawn,
    ) -> Option<EffectTruth> {
        let with_effect: Vec<&ScenarioDataset> = scenario
            .datasets
            .iter()
            .filter(|d| {
                d.coverage_model
                    .as_ref()
                    .is_some_and(|m| m.effect.is_some())
            })
            .collect();
        if with_effect.is_empty() {
            return None;
        }
        let mut programmes: Vec<&str> = Vec::new();
        for d in &with_effect {
            let e = d.coverage_model.as_ref().and_then(|m| m.effect.as_ref());
            let name = e.expect("filtered on having an effect").dataset.as_str();
            if !programmes.contains(&name) {
                programmes.push(name);
            }
        }
        let observed: Vec<bool> = (0..table.covariates.len())
            .map(|c| {
                let name = &table.covariates[c].name;
                scenario.datasets.iter().any(|d| {
                    d.prior.as_ref().is_some_and(|p| p.covariate == c)
                        || d.spec.columns.iter().any(|col| match &col.content {
                            Content::Attribute {
                                value: AttributeValue::Covariate { name: n, .. },
                                ..
                            } => n == name,
                            Content::Attribute {
                                value: AttributeValue::AgeAtRelease,
                                ..
                            } => c == 0,
                            _ => false,
                        })
                })
            })
            .collect();
        // The cohort, as far as the generator can tell it; everyone if unsaid.
        let cohort: Vec<bool> = match &scenario.cohort {
            Some(c) => drawn
                .members(&c.dataset)
                .iter()
                .enumerate()
                .map(|(i, &m)| m && c.conditions.iter().all(|x| table.holds(x, i)))
                .collect(),
            None => vec![true; people.len()],
        };
        let within = |mask: Vec<bool>| -> Vec<bool> {
            mask.iter().zip(&cohort).map(|(a, b)| *a && *b).collect()
        };
        let mut participants = Vec::new();
        let mut balance = Vec::new();
        for &programme in &programmes {
            let d = scenario
                .dataset(programme)
                .expect("an effect names a dataset");
            let on_time = within(drawn.participants(programme));
            let late = within(drawn.late(programme));
            let others = within(drawn.members(programme).iter().map(|m| !m).collect());
            participants.push(ParticipantsRow {
                dataset: programme.to_owned(),
                members: within(drawn.members(programme).to_vec())
                    .iter()
                    .filter(|&&m| m)
                    .count(),
                on_time: on_time.iter().filter(|&&m| m).count(),
                late: late.iter().filter(|&&m| m).count(),
                date: d.timing.as_ref().map(|t| t.attribute.clone()),
                on_time_dates: d.timing.as_ref().map(|t| [t.on_time.0, t.on_time.1]),
                late_dates: d.timing.as_ref().map(|t| [t.from, t.to]),
                selected_by: d
                    .coverage_model
                    .iter()
                    .flat_map(|m| &m.by)
                    .map(|t| table.covariates[t.covariate].name.clone())
                    .collect(),
            });
            for (c, covariate) in table.covariates.iter().enumerate() {
                let variables: Vec<(Option<String>, Vec<f64>)> = match &covariate.kind {
                    CovariateKind::Choice(values) => values
                        .iter()
                        .enumerate()
                        .map(|(k, v)| {
                            let x = table.values[c]
                                .iter()
                                .map(|&x| f64::from(u8::from(x == k as f64)))
                                .collect();
                            (Some(v.clone()), x)
                        })
                        .collect(),
                    _ => vec![(None, table.values[c].clone())],
                };
                for (value, x) in variables {
                    let (pm, pv, _) = mean_where(&x, &on_time);
                    let (om, ov, _) = mean_where(&x, &others);
                    let pooled = ((pv + ov) / 2.0).sqrt();
                    balance.push(BalanceRow {
                        participants: programme.to_owned(),
                        covariate: covariate.name.clone(),
                        value,
                        observed: observed[c],
                        participants_mean: pm,
                        others_mean: om,
                        smd: if pooled > 0.0 {
                            (pm - om) / pooled
                        } else {
                            0.0
                        },
                    });
                }
            }
        }
        let effects = with_effect
            .iter()
            .map(|d| {
                let model = d.coverage_model.as_ref().expect("filtered");
                let effect = model.effect.as_ref().expect("filtered");
                let on_time = within(drawn.participants(&effect.dataset));
                let others = within(drawn.members(&effect.dataset).iter().map(|m| !m).collect());
                let found = drawn.find(&d.spec.name);
                let (p0, p1) = found.chances.as_ref().expect("a model gives chances");
                let appears: Vec<f64> = found
                    .members
                    .iter()
                    .map(|&m| f64::from(u8::from(m)))
                    .collect();
                let (treated, _, participants_n) = mean_where(p1, &on_time);
                let (untreated, _, _) = mean_where(p0, &on_time);
                let (others_expected, _, others_n) = mean_where(p0, &others);
                let (participants_observed, _, _) = mean_where(&appears, &on_time);
                let (others_observed, _, _) = mean_where(&appears, &others);
                let dates: Vec<EventDates> = d
                    .spec
                    .columns
                    .iter()
                    .filter_map(|c| match &c.content {
                        Content::Attribute {
                            name,
                            value:
                                AttributeValue::DateAfterRelease {
                                    from, to, blank, ..
                                },
                        } => Some(EventDates {
                            attribute: name.clone(),
                            from: *from,
                            to: *to,
                            blank: *blank,
                        }),
                        _ => None,
                    })
                    .collect();
                EffectRow {
                    dataset: d.spec.name.clone(),
                    participants: effect.dataset.clone(),
                    odds_ratio: effect.odds_ratio,
                    participants_n,
                    others_n,
                    participants_if_treated: treated,
                    participants_if_untreated: untreated,
                    att: treated - untreated,
                    others_expected,
                    naive_expected: treated - others_expected,
                    selection_bias: untreated - others_expected,
                    participants_observed,
                    others_observed,
                    naive_observed: participants_observed - others_observed,
                    prior_dates: d.prior.as_ref().map(|p| EventDates {
                        attribute: p.attribute.clone(),
                        from: p.from,
                        to: p.to,
                        blank: 0.0,
                    }),
                    dates,
                    duplicate_rate: d.spec.duplicate_rate,
                }
            })
            .collect();
        Some(EffectTruth {
            scenario: scenario.name.clone(),
            people: people.len(),
            cohort: cohort.iter().filter(|&&m| m).count(),
            participants,
            balance,
            effects,
        })
    }
}

/// Writes `effect.json` and `persons.csv` into `dir`.
pub(super) fn write(
    dir: &Path,
    truth: &EffectTruth,
    people: &[Person],
    table: &Table,
    drawn: &Drawn,
) -> Result<(), GenerateError> {
    let path = dir.join("effect.json");
    let json = serde_json::to_string_pretty(truth).expect("the truth serialises");
    std::fs::write(&path, json + "\n").map_err(|source| GenerateError::Write {
        path: path.clone(),
        source,
    })?;

    let path = dir.join("persons.csv");
    let failed = |source| GenerateError::Write {
        path: path.clone(),
        source,
    };
    let mut out = std::io::BufWriter::new(super::create(&path)?);
    let mut header = vec!["person_id".to_owned()];
    header.extend(table.covariates.iter().map(|c| c.name.clone()));
    let programmes: Vec<&ParticipantsRow> = truth.participants.iter().collect();
    header.extend(programmes.iter().map(|p| p.dataset.clone()));
    for e in &truth.effects {
        for suffix in ["p_untreated", "p_treated", "appears"] {
            header.push(format!("{}_{suffix}", e.dataset));
        }
    }
    writeln!(out, "{}", header.join(",")).map_err(failed)?;
    let on_time: Vec<Vec<bool>> = programmes
        .iter()
        .map(|p| drawn.participants(&p.dataset))
        .collect();
    let late: Vec<Vec<bool>> = programmes.iter().map(|p| drawn.late(&p.dataset)).collect();
    for (i, person) in people.iter().enumerate() {
        let mut row = vec![person.id.to_string()];
        row.extend((0..table.covariates.len()).map(|c| table.text(c, i)));
        for k in 0..programmes.len() {
            row.push(
                match (on_time[k][i], late[k][i]) {
                    (true, _) => "on_time",
                    (_, true) => "late",
                    _ => "",
                }
                .to_owned(),
            );
        }
        for e in &truth.effects {
            let d = drawn.find(&e.dataset);
            let (p0, p1) = d.chances.as_ref().expect("an effect's dataset has a model");
            row.push(format!("{:.4}", p0[i]));
            row.push(format!("{:.4}", p1[i]));
            row.push(if d.members[i] { "Y" } else { "N" }.to_owned());
        }
        writeln!(out, "{}", row.join(",")).map_err(failed)?;
    }
    out.flush().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_share_counts_rows_in_the_window() {
        let all = EventDates {
            attribute: "d".into(),
            from: 1,
            to: 365,
            blank: 0.0,
        };
        // One row, no duplicates: the window's share of the range.
        assert!((event_share((1, 182), &all, 0.0) - 182.0 / 365.0).abs() < 1e-12);
        assert!((event_share((1, 365), &all, 0.3) - 1.0).abs() < 1e-12);
        assert_eq!(event_share((400, 500), &all, 0.3), 0.0);
        // More rows make an event in the window likelier.
        assert!(event_share((1, 182), &all, 0.25) > event_share((1, 182), &all, 0.0));
        // Blank dates never count.
        let blank = EventDates { blank: 1.0, ..all };
        assert_eq!(event_share((1, 365), &blank, 0.2), 0.0);
    }
}
