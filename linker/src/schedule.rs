//! A project's schedule: when the server runs linkage by itself, and how it
//! retries a failed run. Pure: the time is always passed in, so due times,
//! back-off and the "is there anything new?" decision are tested without
//! waiting for a clock. The task that acts on them is [`crate::scheduler`].
//!
//! In the project config either a bare cron expression,
//! `schedule = "0 2 * * *"`, or a table:
//!
//! ```toml
//! [schedule]
//! cron = "0 2 * * *"
//! max_attempts = 4
//! retry_after_seconds = 60
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::CronParser;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::ids::DatasetVersion;

/// Each retry waits this many times longer than the one before
/// (1 min, 5 min, 25 min with the defaults).
pub const BACKOFF_FACTOR: u32 = 5;
/// Attempts of one scheduled run, the first included, unless configured.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
/// Wait before the first retry, unless configured.
pub const DEFAULT_RETRY_AFTER_SECONDS: u64 = 60;

/// Why a schedule was refused; each message names the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "schedule.cron `{cron}` is not a cron expression ({reason}): write five fields, minute hour day-of-month month day-of-week, in UTC, e.g. \"0 2 * * *\" for 02:00 every day"
    )]
    NotCron { cron: String, reason: String },
    #[error("schedule.cron `{cron}` never fires")]
    NeverFires { cron: String },
    #[error("schedule.max_attempts ({0}) must be between 1 and 10")]
    MaxAttempts(u32),
    #[error("schedule.retry_after_seconds ({0}) must be between 1 and 86400")]
    RetryAfter(u64),
}

/// When a project runs by itself, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleConfig {
    /// A cron expression in UTC: five fields (minute hour day-of-month month
    /// day-of-week) as in crontab, or six with seconds first.
    pub cron: String,
    /// Attempts of one scheduled run, the first included (1–10).
    pub max_attempts: u32,
    /// Wait before the first retry, in seconds; each later wait is
    /// [`BACKOFF_FACTOR`] times the one before.
    pub retry_after_seconds: u64,
}

/// The table form, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleTable {
    cron: String,
    #[serde(default = "default_max_attempts")]
    max_attempts: u32,
    #[serde(default = "default_retry_after")]
    retry_after_seconds: u64,
}

fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

fn default_retry_after() -> u64 {
    DEFAULT_RETRY_AFTER_SECONDS
}

impl<'de> Deserialize<'de> for ScheduleConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = ScheduleConfig;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a cron expression such as \"0 2 * * *\", or a [schedule] table with `cron`, `max_attempts` and `retry_after_seconds`",
                )
            }

            fn visit_str<E: de::Error>(self, cron: &str) -> Result<ScheduleConfig, E> {
                Ok(ScheduleConfig {
                    cron: cron.to_owned(),
                    max_attempts: DEFAULT_MAX_ATTEMPTS,
                    retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScheduleConfig, A::Error> {
                let t = ScheduleTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ScheduleConfig {
                    cron: t.cron,
                    max_attempts: t.max_attempts,
                    retry_after_seconds: t.retry_after_seconds,
                })
            }
        }
        deserializer.deserialize_any(Either)
    }
}

impl ScheduleConfig {
    /// Checks the expression and the retry settings; messages name the
    /// field. An expression that can never fire (30 February) is refused;
    /// one whose year field has passed is not, so that a stored project
    /// never turns invalid as time goes by (the scheduler logs it instead).
    pub fn check(&self) -> Result<(), ScheduleError> {
        let cron = self.parse()?;
        let reference = DateTime::<Utc>::from_timestamp(946_684_800, 0) // 2000-01-01
            .expect("a valid fixed time");
        if next_due(&cron, reference).is_none() {
            return Err(ScheduleError::NeverFires {
                cron: self.cron.clone(),
            });
        }
        if !(1..=10).contains(&self.max_attempts) {
            return Err(ScheduleError::MaxAttempts(self.max_attempts));
        }
        if !(1..=86_400).contains(&self.retry_after_seconds) {
            return Err(ScheduleError::RetryAfter(self.retry_after_seconds));
        }
        Ok(())
    }

    /// The parsed expression.
    pub fn parse(&self) -> Result<Cron, ScheduleError> {
        CronParser::new()
            .parse(&self.cron)
            .map_err(|e| ScheduleError::NotCron {
                cron: self.cron.clone(),
                reason: e.to_string().trim_end_matches('.').to_owned(),
            })
    }

    /// How long to wait after failed attempt `attempt` (1-based) before the
    /// next: `retry_after_seconds × 5^(attempt − 1)`.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let factor = u64::from(BACKOFF_FACTOR).saturating_pow(attempt.saturating_sub(1));
        Duration::from_secs(self.retry_after_seconds.saturating_mul(factor))
    }
}

/// The first time the expression fires strictly after `after`.
pub fn next_due(cron: &Cron, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after, false).ok()
}

/// Which version of each dataset a run used (or would use).
pub type Inputs = BTreeMap<String, DatasetVersion>;

/// Whether a run is worth starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run(String),
    Skip(String),
}

/// Decides whether to run: when forced; when nothing was published yet; when
/// the last publication did not record its inputs; or when some dataset's
/// current version differs from the one the last publication used.
pub fn decide(current: &Inputs, published: Option<&Option<Inputs>>, force: bool) -> Decision {
    if force {
        return Decision::Run("forced".to_owned());
    }
    if current.is_empty() {
        return Decision::Skip("no dataset has been uploaded yet".to_owned());
    }
    let used = match published {
        None => return Decision::Run("nothing has been published yet".to_owned()),
        Some(None) => {
            return Decision::Run(
                "the last publication did not record which versions it used".to_owned(),
            );
        }
        Some(Some(used)) => used,
    };
    let changed: Vec<String> = current
        .iter()
        .filter(|(dataset, version)| used.get(*dataset) != Some(version))
        .map(|(dataset, version)| format!("{dataset} v{version}"))
        .collect();
    if changed.is_empty() {
        Decision::Skip("no dataset has a new version since the last publication".to_owned())
    } else {
        Decision::Run(format!("new versions: {}", changed.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid test time")
            .with_timezone(&Utc)
    }

    fn schedule(cron: &str) -> ScheduleConfig {
        ScheduleConfig {
            cron: cron.to_owned(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_after_seconds: DEFAULT_RETRY_AFTER_SECONDS,
        }
    }

    #[test]
    fn due_times_follow_crontab_in_utc() {
        let nightly = schedule("0 2 * * *").parse().expect("parses");
        assert_eq!(
            next_due(&nightly, at("2026-11-23T10:52:00Z")),
            Some(at("2026-11-24T02:00:00Z"))
        );
        assert_eq!(
            next_due(&nightly, at("2026-11-23T01:59:59Z")),
            Some(at("2026-11-23T02:00:00Z"))
        );
        // Strictly after: a run at the due time does not find itself due again.
        assert_eq!(
            next_due(&nightly, at("2026-11-23T02:00:00Z")),
            Some(at("2026-11-24T02:00:00Z"))
        );
        let weekdays = schedule("30 1 * * MON-FRI").parse().expect("parses");
        assert_eq!(
            next_due(&weekdays, at("2026-11-27T12:00:00Z")), // a Friday
            Some(at("2026-11-30T01:30:00Z"))                 // the Monday after
        );
        let seconds = schedule("*/3 * * * * *").parse().expect("parses");
        assert_eq!(
            next_due(&seconds, at("2026-11-23T10:00:01Z")),
            Some(at("2026-11-23T10:00:03Z"))
        );
    }

    #[test]
    fn bad_schedules_are_refused_naming_the_field() {
        for (config, needle) in [
            (schedule("0 25 * * *"), "schedule.cron `0 25 * * *`"),
            (schedule("nightly"), "schedule.cron `nightly`"),
            (schedule("0 2 * *"), "five fields"),
            (schedule("0 0 30 2 *"), "never fires"),
            (
                ScheduleConfig {
                    max_attempts: 0,
                    ..schedule("0 2 * * *")
                },
                "schedule.max_attempts",
            ),
            (
                ScheduleConfig {
                    retry_after_seconds: 0,
                    ..schedule("0 2 * * *")
                },
                "schedule.retry_after_seconds",
            ),
        ] {
            let err = config.check().expect_err("refused").to_string();
            assert!(err.contains(needle), "{err}");
        }
        schedule("@daily").check().expect("nicknames are cron too");
        schedule("0 0 2 * * * 2001")
            .check()
            .expect("a past year is not an error: a stored config must stay valid");
    }

    #[test]
    fn retries_back_off_by_five() {
        let s = schedule("0 2 * * *");
        let delays: Vec<u64> = (1..=3).map(|a| s.retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [60, 300, 1500]);
        assert_eq!(s.retry_delay(200).as_secs(), u64::MAX, "saturates");
    }

    #[test]
    fn both_forms_parse_and_round_trip() {
        #[derive(Debug, Deserialize, Serialize, PartialEq)]
        struct Holder {
            schedule: ScheduleConfig,
        }
        let bare: Holder = toml::from_str("schedule = \"0 2 * * *\"").expect("bare form");
        assert_eq!(bare.schedule, schedule("0 2 * * *"));
        let table: Holder =
            toml::from_str("[schedule]\ncron = \"0 3 * * *\"\nmax_attempts = 2\n").expect("table");
        assert_eq!(table.schedule.max_attempts, 2);
        assert_eq!(table.schedule.retry_after_seconds, 60);
        let again: Holder =
            toml::from_str(&toml::to_string(&table).expect("serialises")).expect("round trip");
        assert_eq!(again, table);
        let unknown = toml::from_str::<Holder>("[schedule]\ncron = \"0 3 * * *\"\nevery = 1\n")
            .expect_err("unknown keys are refused");
        assert!(unknown.to_string().contains("every"), "{unknown}");
    }

    #[test]
    fn runs_only_when_a_dataset_has_a_new_version() {
        let inputs = |pairs: &[(&str, u64)]| -> Inputs {
            pairs
                .iter()
                .map(|(d, v)| ((*d).to_owned(), DatasetVersion(*v)))
                .collect()
        };
        let current = inputs(&[("police", 2), ("probation", 5)]);
        let same = Some(current.clone());
        assert!(matches!(
            decide(&current, Some(&same), false),
            Decision::Skip(_)
        ));
        assert_eq!(
            decide(&current, Some(&same), true),
            Decision::Run("forced".into())
        );
        let older = Some(inputs(&[("police", 1), ("probation", 5)]));
        assert_eq!(
            decide(&current, Some(&older), false),
            Decision::Run("new versions: police v2".into())
        );
        // A dataset uploaded for the first time since the publication.
        let fewer = Some(inputs(&[("probation", 5)]));
        assert_eq!(
            decide(&current, Some(&fewer), false),
            Decision::Run("new versions: police v2".into())
        );
        assert!(matches!(decide(&current, None, false), Decision::Run(_)));
        assert!(matches!(
            decide(&current, Some(&None), false),
            Decision::Run(_)
        ));
        assert!(matches!(
            decide(&Inputs::new(), None, false),
            Decision::Skip(_)
        ));
    }
}
