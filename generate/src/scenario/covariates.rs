//! Person-level covariates (`[[covariates]]`) and the logistic models in
//! them (`coverage_model`) that make who joins a programme, and what happens
//! to people after release, depend on who they are (issue 18).
//!
//! Every person has the built-in covariate `age_at_release`, then those the
//! scenario declares, in order, each drawn from the person's own generator
//! ([`Rng::for_item`]) and each free to depend on those before it through
//! `by` terms. A term is `per` times the covariate's value (a flag counts
//! 1 for yes; a choice with `is` counts 1 when it is that value), centred on
//! the population's mean, so a model's `base` or `mean` is what a person of
//! average covariates gets.

use serde::Deserialize;

use crate::population::{Person, age_on};
use crate::rng::Rng;

use super::error::Problem;

/// The built-in covariate: whole years of age on the release date.
pub const AGE_AT_RELEASE: &str = "age_at_release";

/// A covariate as the scenario file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CovariateFile {
    name: String,
    kind: String,
    #[serde(default)]
    mean: Option<f64>,
    #[serde(default)]
    sd: Option<f64>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default)]
    yes: Option<f64>,
    #[serde(default)]
    values: Option<Vec<String>>,
    #[serde(default)]
    by: Option<Vec<TermFile>>,
    #[serde(default)]
    of: Option<Vec<ConditionFile>>,
}

/// `{ covariate = "prior_offences", per = -0.3 }` or
/// `{ covariate = "establishment", is = "HMP Wandsworth", per = 0.5 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TermFile {
    covariate: String,
    #[serde(default)]
    is: Option<String>,
    per: f64,
}

/// `{ covariate = "parent" }` (a flag that is yes),
/// `{ covariate = "age_at_release", min = 18, max = 24 }`, or
/// `{ covariate = "establishment", is = "HMP Wandsworth" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConditionFile {
    covariate: String,
    #[serde(default)]
    is: Option<String>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

/// A dataset's `coverage_model` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ModelFile {
    base: f64,
    #[serde(default)]
    by: Vec<TermFile>,
    #[serde(default)]
    effect: Option<EffectFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EffectFile {
    dataset: String,
    odds_ratio: f64,
}

/// One person-level covariate.
#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub kind: CovariateKind,
}

/// How a covariate's values are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum CovariateKind {
    /// `age_at_release`, from the person's date of birth and release date.
    Age,
    /// `mean` + the terms + `sd` × a standard normal draw (a latent risk).
    Normal { mean: f64, sd: f64, by: Vec<Term> },
    /// As `Normal`, rounded and kept within `min..=max` (a sentence length).
    Integer {
        mean: f64,
        sd: f64,
        min: i64,
        max: i64,
        by: Vec<Term>,
    },
    /// Poisson with mean `mean` × exp(the terms), at most `max` (prior offences).
    Count { mean: f64, max: u32, by: Vec<Term> },
    /// Yes with log-odds logit(`yes`) + the terms (`Y`/`N`).
    Flag { yes: f64, by: Vec<Term> },
    /// One of the values, the first ones commoner (as a `choice` column).
    Choice(Vec<String>),
    /// Yes when any of the conditions holds (`Y`/`N`): "a parent or a
    /// young adult".
    Any(Vec<Condition>),
}

/// `per` × (the value of covariate `covariate`, or 1 when it `is` that
/// choice), centred on the population's mean.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub covariate: usize,
    pub is: Option<usize>,
    pub per: f64,
}

/// A condition of [`CovariateKind::Any`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub covariate: usize,
    pub is: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A logistic model of a dataset's coverage: log-odds logit(`base`) + the
/// terms, + ln(`odds_ratio`) for the true participants of the effect's
/// dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub base: f64,
    pub by: Vec<Term>,
    pub effect: Option<Effect>,
}

/// A programme's built-in effect on a dataset's coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// The participants' dataset, described before.
    pub dataset: String,
    pub odds_ratio: f64,
}

impl Covariate {
    /// The attribute type of a column that writes it.
    pub fn config_type(&self) -> &'static str {
        match self.kind {
            CovariateKind::Age | CovariateKind::Integer { .. } | CovariateKind::Count { .. } => {
                "integer"
            }
            CovariateKind::Normal { .. } => "number",
            CovariateKind::Flag { .. } | CovariateKind::Any(_) => "boolean",
            CovariateKind::Choice(_) => "string",
        }
    }

    fn choices(&self) -> Option<&[String]> {
        match &self.kind {
            CovariateKind::Choice(values) => Some(values),
            _ => None,
        }
    }
}

/// The scenario's covariates, the built-in one first.
pub(super) fn parse(files: Vec<CovariateFile>) -> Result<Vec<Covariate>, (String, Problem)> {
    let mut out = vec![Covariate {
        name: AGE_AT_RELEASE.to_owned(),
        kind: CovariateKind::Age,
    }];
    for file in files {
        let name = file.name.clone();
        let covariate = file.resolve(&out).map_err(|p| (name, p))?;
        out.push(covariate);
    }
    Ok(out)
}

impl CovariateFile {
    fn resolve(self, before: &[Covariate]) -> Result<Covariate, Problem> {
        super::check_name(&self.name, "covariate")?;
        if before.iter().any(|c| c.name == self.name) {
            return Err(Problem::CovariateTwice(self.name));
        }
        let allowed: &'static [&'static str] = match self.kind.as_str() {
            "normal" => &["mean", "sd", "by"],
            "integer" => &["mean", "sd", "min", "max", "by"],
            "count" => &["mean", "max", "by"],
            "flag" => &["yes", "by"],
            "choice" => &["values"],
            "any" => &["of"],
            other => return Err(Problem::UnknownCovariateKind(other.to_owned())),
        };
        let set = [
            ("mean", self.mean.is_some()),
            ("sd", self.sd.is_some()),
            ("min", self.min.is_some()),
            ("max", self.max.is_some()),
            ("yes", self.yes.is_some()),
            ("values", self.values.is_some()),
            ("by", self.by.is_some()),
            ("of", self.of.is_some()),
        ];
        if let Some((setting, _)) = set.iter().find(|(s, on)| *on && !allowed.contains(s)) {
            return Err(Problem::NotApplicable {
                setting,
                kind: self.kind,
                allowed,
            });
        }
        let by = terms(self.by.as_deref().unwrap_or_default(), before)?;
        let mean = self.mean.unwrap_or(0.0);
        let sd = self.sd.unwrap_or(1.0);
        if !mean.is_finite() || !sd.is_finite() || sd < 0.0 {
            return Err(Problem::BadSpread { mean, sd });
        }
        let kind = match self.kind.as_str() {
            "normal" => CovariateKind::Normal { mean, sd, by },
            "integer" => {
                let (Some(min), Some(max)) = (self.min, self.max) else {
                    return Err(Problem::NeedsBounds);
                };
                if min > max {
                    return Err(Problem::MinAboveMax { min, max });
                }
                CovariateKind::Integer {
                    mean,
                    sd,
                    min,
                    max,
                    by,
                }
            }
            "count" => {
                let max = self.max.unwrap_or(20);
                if mean < 0.0 || !(0..=1000).contains(&max) {
                    return Err(Problem::BadCount { mean, max });
                }
                CovariateKind::Count {
                    mean,
                    max: max as u32,
                    by,
                }
            }
            "flag" => CovariateKind::Flag {
                yes: probability(self.yes.unwrap_or(0.5), "yes")?,
                by,
            },
            "choice" => match self.values {
                Some(values) if !values.is_empty() => CovariateKind::Choice(values),
                _ => return Err(Problem::NeedsValues("choice".to_owned())),
            },
            _ => {
                let of = self.of.unwrap_or_default();
                if of.is_empty() {
                    return Err(Problem::NeedsConditions);
                }
                CovariateKind::Any(
                    of.into_iter()
                        .map(|c| condition(c, before))
                        .collect::<Result<_, _>>()?,
                )
            }
        };
        Ok(Covariate {
            name: self.name,
            kind,
        })
    }
}

/// A probability strictly between 0 and 1 (a log-odds must exist).
fn probability(value: f64, setting: &'static str) -> Result<f64, Problem> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(Problem::NotAProbability { setting, value })
    }
}

fn find(name: &str, before: &[Covariate]) -> Result<usize, Problem> {
    before
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| Problem::UnknownCovariate {
            name: name.to_owned(),
            known: before.iter().map(|c| c.name.clone()).collect(),
        })
}

/// The value index of `is` in a choice covariate; `is` only for choices.
fn choice_index(covariate: &Covariate, is: Option<&str>) -> Result<Option<usize>, Problem> {
    match (covariate.choices(), is) {
        (Some(values), Some(is)) => {
            values
                .iter()
                .position(|v| v == is)
                .map(Some)
                .ok_or_else(|| Problem::NotAChoice {
                    covariate: covariate.name.clone(),
                    value: is.to_owned(),
                })
        }
        (Some(_), None) => Err(Problem::ChoiceNeedsIs(covariate.name.clone())),
        (None, Some(_)) => Err(Problem::IsOnlyForChoices(covariate.name.clone())),
        (None, None) => Ok(None),
    }
}

pub(super) fn terms(files: &[TermFile], before: &[Covariate]) -> Result<Vec<Term>, Problem> {
    files
        .iter()
        .map(|t| {
            let covariate = find(&t.covariate, before)?;
            if !t.per.is_finite() {
                return Err(Problem::NotFinite("per"));
            }
            Ok(Term {
                covariate,
                is: choice_index(&before[covariate], t.is.as_deref())?,
                per: t.per,
            })
        })
        .collect()
}

pub(super) fn condition(c: ConditionFile, before: &[Covariate]) -> Result<Condition, Problem> {
    let covariate = find(&c.covariate, before)?;
    let is = choice_index(&before[covariate], c.is.as_deref())?;
    if is.is_some() && (c.min.is_some() || c.max.is_some()) {
        return Err(Problem::IsOnlyForChoices(c.covariate));
    }
    Ok(Condition {
        covariate,
        is,
        min: c.min,
        max: c.max,
    })
}

/// Turns a `coverage_model` into a [`Model`] over `covariates`.
pub(super) fn model(file: ModelFile, covariates: &[Covariate]) -> Result<Model, Problem> {
    let base = probability(file.base, "coverage_model.base")?;
    let by = terms(&file.by, covariates)?;
    let effect = match file.effect {
        Some(e) => {
            if !(e.odds_ratio > 0.0 && e.odds_ratio.is_finite()) {
                return Err(Problem::BadOddsRatio(e.odds_ratio));
            }
            Some(Effect {
                dataset: e.dataset,
                odds_ratio: e.odds_ratio,
            })
        }
        None => None,
    };
    Ok(Model { base, by, effect })
}

/// Every covariate's value for every person: a number (a flag 1 or 0, a
/// choice its value's position).
#[derive(Debug, Clone)]
pub struct Table {
    pub covariates: Vec<Covariate>,
    /// `values[c][i]`: covariate `c` of person `i`.
    pub values: Vec<Vec<f64>>,
}

impl Table {
    /// Draws the covariates of `people` for `seed`.
    pub fn draw(covariates: &[Covariate], people: &[Person], seed: u64) -> Table {
        let mut table = Table {
            covariates: Vec::with_capacity(covariates.len()),
            values: Vec::with_capacity(covariates.len()),
        };
        for covariate in covariates {
            let label = format!("covariate:{}", covariate.name);
            let lin = |by: &[Term]| table.linear(by);
            let column: Vec<f64> = match &covariate.kind {
                CovariateKind::Age => people
                    .iter()
                    .map(|p| f64::from(age_on(p, p.release_date)))
                    .collect(),
                CovariateKind::Normal { mean, sd, by } => {
                    let lin = lin(by);
                    people
                        .iter()
                        .zip(lin)
                        .map(|(p, l)| mean + l + sd * person_rng(seed, &label, p).normal())
                        .collect()
                }
                CovariateKind::Integer {
                    mean,
                    sd,
                    min,
                    max,
                    by,
                } => {
                    let lin = lin(by);
                    people
                        .iter()
                        .zip(lin)
                        .map(|(p, l)| {
                            let x = mean + l + sd * person_rng(seed, &label, p).normal();
                            x.round().clamp(*min as f64, *max as f64)
                        })
                        .collect()
                }
                CovariateKind::Count { mean, max, by } => {
                    let lin = lin(by);
                    people
                        .iter()
                        .zip(lin)
                        .map(|(p, l)| {
                            let rate = mean * l.exp();
                            f64::from(poisson(rate, *max, &mut person_rng(seed, &label, p)))
                        })
                        .collect()
                }
                CovariateKind::Flag { yes, by } => {
                    let lin = lin(by);
                    people
                        .iter()
                        .zip(lin)
                        .map(|(p, l)| {
                            let chance = logistic(logit(*yes) + l);
                            f64::from(u8::from(person_rng(seed, &label, p).chance(chance)))
                        })
                        .collect()
                }
                CovariateKind::Choice(values) => people
                    .iter()
                    .map(|p| {
                        let mut rng = person_rng(seed, &label, p);
                        let n = values.len() as u64;
                        rng.below(n).min(rng.below(n)) as f64
                    })
                    .collect(),
                CovariateKind::Any(conditions) => (0..people.len())
                    .map(|i| f64::from(u8::from(conditions.iter().any(|c| table.holds(c, i)))))
                    .collect(),
            };
            table.covariates.push(covariate.clone());
            table.values.push(column);
        }
        table
    }

    /// The covariate called `name`'s position.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.covariates.iter().position(|c| c.name == name)
    }

    /// A term's variable for person `i`, before centring.
    fn x(&self, covariate: usize, is: Option<usize>, i: usize) -> f64 {
        let v = self.values[covariate][i];
        match is {
            Some(k) => f64::from(u8::from(v == k as f64)),
            None => v,
        }
    }

    /// The population's mean of a term's variable.
    fn mean(&self, covariate: usize, is: Option<usize>) -> f64 {
        let n = self.values[covariate].len();
        if n == 0 {
            return 0.0;
        }
        (0..n).map(|i| self.x(covariate, is, i)).sum::<f64>() / n as f64
    }

    /// Σ per × (x − mean x) for every person.
    pub fn linear(&self, by: &[Term]) -> Vec<f64> {
        let n = self.values.first().map_or(0, Vec::len);
        let mut out = vec![0.0; n];
        for term in by {
            let mean = self.mean(term.covariate, term.is);
            for (i, o) in out.iter_mut().enumerate() {
                *o += term.per * (self.x(term.covariate, term.is, i) - mean);
            }
        }
        out
    }

    /// Whether person `i` meets the condition.
    pub fn holds(&self, c: &Condition, i: usize) -> bool {
        let v = self.values[c.covariate][i];
        match (c.is, c.min, c.max) {
            (Some(k), _, _) => v == k as f64,
            (None, None, None) => v != 0.0,
            (None, min, max) => min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m),
        }
    }

    /// The text a column writes for covariate `c` of person `i`.
    pub fn text(&self, c: usize, i: usize) -> String {
        let v = self.values[c][i];
        match &self.covariates[c].kind {
            CovariateKind::Normal { .. } => format!("{v:.2}"),
            CovariateKind::Flag { .. } | CovariateKind::Any(_) => {
                if v != 0.0 { "Y" } else { "N" }.to_owned()
            }
            CovariateKind::Choice(values) => values[v as usize].clone(),
            _ => format!("{}", v as i64),
        }
    }
}

fn person_rng(seed: u64, label: &str, p: &Person) -> Rng {
    Rng::for_item(seed, label, u64::from(p.id.0))
}

pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A Poisson draw (Knuth's product of uniforms), at most `max`.
fn poisson(rate: f64, max: u32, rng: &mut Rng) -> u32 {
    let limit = (-rate).exp();
    let mut product = rng.unit();
    let mut k = 0;
    while product > limit && k < max {
        product *= rng.unit();
        k += 1;
    }
    k
}

impl Model {
    /// Each person's chance of appearing without the effect and with it.
    pub fn chances(&self, table: &Table) -> (Vec<f64>, Vec<f64>) {
        let lin = table.linear(&self.by);
        let shift = self.effect.as_ref().map_or(0.0, |e| e.odds_ratio.ln());
        let base = logit(self.base);
        lin.iter()
            .map(|l| (logistic(base + l), logistic(base + l + shift)))
            .unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::people;

    fn parse_toml(text: &str) -> Result<Vec<Covariate>, (String, Problem)> {
        #[derive(Deserialize)]
        struct F {
            covariates: Vec<CovariateFile>,
        }
        parse(toml::from_str::<F>(text).unwrap().covariates)
    }

    const RISKY: &str = r#"
covariates = [
  { name = "risk", kind = "normal" },
  { name = "prior", kind = "count", mean = 1.5, by = [{ covariate = "risk", per = 0.8 }] },
  { name = "sentence", kind = "integer", mean = 200, sd = 60, min = 14, max = 730, by = [{ covariate = "risk", per = 50 }] },
  { name = "parent", kind = "flag", yes = 0.4 },
  { name = "prison", kind = "choice", values = ["A", "B"] },
  { name = "eligible", kind = "any", of = [{ covariate = "parent" }, { covariate = "age_at_release", max = 24 }] },
]
"#;

    fn corr(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }

    #[test]
    fn covariates_follow_their_models_deterministically() {
        let covariates = parse_toml(RISKY).unwrap();
        let people = people(4, 4000);
        let table = Table::draw(&covariates, &people, 4);
        let again = Table::draw(&covariates, &people, 4);
        assert_eq!(table.values, again.values);
        let col = |name| &table.values[table.position(name).unwrap()];
        // Prior offences and sentence length rise with the latent risk.
        assert!(corr(col("risk"), col("prior")) > 0.4);
        assert!(corr(col("risk"), col("sentence")) > 0.4);
        let prior_mean = col("prior").iter().sum::<f64>() / 4000.0;
        assert!((1.4..2.6).contains(&prior_mean), "{prior_mean}");
        assert!(col("sentence").iter().all(|s| (14.0..=730.0).contains(s)));
        let parents = col("parent").iter().sum::<f64>() / 4000.0;
        assert!((0.37..0.43).contains(&parents), "{parents}");
        // "any": a parent or aged 24 or under.
        for i in 0..4000 {
            let expected = col("parent")[i] == 1.0 || col("age_at_release")[i] <= 24.0;
            assert_eq!(col("eligible")[i] == 1.0, expected);
        }
        assert_eq!(table.text(table.position("parent").unwrap(), 0).len(), 1);
        // A person's covariates do not depend on who else is drawn.
        let fewer = Table::draw(&covariates, &people[..100], 4);
        assert_eq!(fewer.values[1][..], table.values[1][..100]);
    }

    #[test]
    fn a_model_centres_its_terms_and_applies_the_effect() {
        let covariates = parse_toml(RISKY).unwrap();
        let people = people(5, 3000);
        let table = Table::draw(&covariates, &people, 5);
        let model = Model {
            base: 0.3,
            by: terms(
                &[TermFile {
                    covariate: "prior".into(),
                    is: None,
                    per: -0.5,
                }],
                &covariates,
            )
            .unwrap(),
            effect: Some(Effect {
                dataset: "x".into(),
                odds_ratio: 0.5,
            }),
        };
        let (p0, p1) = model.chances(&table);
        let prior = &table.values[table.position("prior").unwrap()];
        let mean = prior.iter().sum::<f64>() / prior.len() as f64;
        for i in 0..people.len() {
            let odds = |p: f64| p / (1.0 - p);
            assert!((odds(p1[i]) / odds(p0[i]) - 0.5).abs() < 1e-9);
            let expected = logistic(logit(0.3) - 0.5 * (prior[i] - mean));
            assert!((p0[i] - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn mistakes_are_refused() {
        let cases = [
            (
                r#"kind = "normal" }"#,
                r#"kind = "gaussian" }"#,
                "unknown covariate kind `gaussian`",
            ),
            (
                r#"per = 0.8"#,
                r#"per = 0.8, is = "A""#,
                "`is` applies only to a choice covariate; `risk` is not one",
            ),
            (
                r#"covariate = "risk", per = 50"#,
                r#"covariate = "later", per = 50"#,
                "no covariate `later` before this one",
            ),
            (
                r#"yes = 0.4"#,
                r#"yes = 1.0"#,
                "`yes` must be strictly between 0 and 1",
            ),
            (
                r#"min = 14, max = 730"#,
                r#"min = 730, max = 14"#,
                "`min` (730) is above `max` (14)",
            ),
            (
                r#"{ covariate = "parent" }, "#,
                r#"{ covariate = "prison" }, "#,
                "give `is` with the choice covariate `prison`",
            ),
            (
                r#"name = "parent", kind = "flag", yes = 0.4"#,
                r#"name = "parent", kind = "flag", values = ["Y"]"#,
                "`values` does not apply to kind `flag`",
            ),
        ];
        for (from, to, expected) in cases {
            assert!(RISKY.contains(from), "{from}");
            let (name, problem) = parse_toml(&RISKY.replacen(from, to, 1)).unwrap_err();
            let message = format!("covariate `{name}`: {problem}");
            assert!(message.contains(expected), "{expected:?} in {message:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the settings, every value is within its kind's range,
        /// the draws repeat for a seed, and a model's chances are
        /// probabilities whose odds differ by exactly the effect.
        #[test]
        fn any_valid_model_stays_in_range(
            seed in 0u64..1000,
            mean in -3.0f64..3.0,
            sd in 0.0f64..3.0,
            per in -2.0f64..2.0,
            count_mean in 0.0f64..6.0,
            max in 0i64..12,
            (min, top) in (-50i64..50, 0i64..100),
            yes in 0.01f64..0.99,
            base in 0.01f64..0.99,
            odds_ratio in 0.05f64..20.0,
        ) {
            let text = format!(
                r#"
covariates = [
  {{ name = "z", kind = "normal", mean = {mean}, sd = {sd} }},
  {{ name = "k", kind = "count", mean = {count_mean}, max = {max}, by = [{{ covariate = "z", per = {per} }}] }},
  {{ name = "i", kind = "integer", mean = {mean}, sd = {sd}, min = {min}, max = {top_}, by = [{{ covariate = "k", per = {per} }}] }},
  {{ name = "f", kind = "flag", yes = {yes}, by = [{{ covariate = "i", per = {per} }}] }},
  {{ name = "c", kind = "choice", values = ["a", "b", "c"] }},
]
"#,
                top_ = min + top,
            );
            let covariates = parse_toml(&text).unwrap();
            let people = people(seed, 300);
            let table = Table::draw(&covariates, &people, seed);
            proptest::prop_assert_eq!(&table.values, &Table::draw(&covariates, &people, seed).values);
            let col = |name| &table.values[table.position(name).unwrap()];
            proptest::prop_assert!(col("k").iter().all(|&k| k >= 0.0 && k <= max as f64 && k.fract() == 0.0));
            proptest::prop_assert!(col("i").iter().all(|&i| i >= min as f64 && i <= (min + top) as f64));
            proptest::prop_assert!(col("f").iter().all(|&f| f == 0.0 || f == 1.0));
            proptest::prop_assert!(col("c").iter().all(|&c| [0.0, 1.0, 2.0].contains(&c)));
            let model = Model {
                base,
                by: covariates[1..]
                    .iter()
                    .enumerate()
                    .map(|(k, c)| Term {
                        covariate: k + 1,
                        is: matches!(c.kind, CovariateKind::Choice(_)).then_some(1),
                        per,
                    })
                    .collect(),
                effect: Some(Effect { dataset: "x".into(), odds_ratio }),
            };
            let (p0, p1) = model.chances(&table);
            for (a, b) in p0.iter().zip(&p1) {
                proptest::prop_assert!((0.0..=1.0).contains(a) && (0.0..=1.0).contains(b));
                if *a > 1e-9 && *a < 1.0 - 1e-9 && *b > 1e-9 && *b < 1.0 - 1e-9 {
                    let ratio = (b / (1.0 - b)) / (a / (1.0 - a));
                    proptest::prop_assert!((ratio / odds_ratio - 1.0).abs() < 1e-6);
                }
            }
        }
    }
}
