//! Typed identifiers and statuses, so that a run id is never passed where a
//! version number is meant, and a status is one of those a run can have.
//!
//! Each serialises as the bare number or text it wraps (JSON output is the
//! same as before they had types); the text forms are also what the
//! metadata store keeps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A linkage run, numbered by the metadata store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub u64);

/// A dataset's version number: 1 for its first upload, then up by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatasetVersion(pub u64);

/// The public id of an API token (16 hex digits), as named in lists and the
/// audit log. Not a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(String);

impl TokenId {
    /// Wraps an id as typed or stored (it names a token only if one has it).
    pub fn new(id: impl Into<String>) -> Self {
        TokenId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for DatasetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A text that is not one of an enumeration's names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {what}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Started and not finished; holds the project's run lock.
    Running,
    /// Published.
    Succeeded,
    /// Ended without publishing (including a run whose process died).
    Failed,
    /// Linked, but not published: the guard before publishing found it
    /// implausible or sharply changed (the reasons are kept with the run);
    /// an administrator may run it again with `--accept`.
    Held,
    /// Not linked: after a key rotation some datasets are still on the
    /// retiring key (issue 16); the run's message names them. A run never
    /// links across key spaces, and `--accept` does not change that.
    Waiting,
}

impl RunStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Held => "held",
            RunStatus::Waiting => "waiting",
        }
    }
}

impl FromStr for RunStatus {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Held,
            RunStatus::Waiting,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| UnknownName {
            what: "run status",
            value: text.to_owned(),
        })
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartedBy {
    /// The API or the command line.
    Manual,
    /// The project's schedule.
    Schedule,
}

impl StartedBy {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            StartedBy::Manual => "manual",
            StartedBy::Schedule => "schedule",
        }
    }
}

impl FromStr for StartedBy {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, UnknownName> {
        [StartedBy::Manual, StartedBy::Schedule]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownName {
                what: "run starter",
                value: text.to_owned(),
            })
    }
}

impl fmt::Display for StartedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serialise_as_before() {
        for s in [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Held,
            RunStatus::Waiting,
        ] {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).expect("serialises"),
                format!("\"{s}\"")
            );
        }
        for s in [StartedBy::Manual, StartedBy::Schedule] {
            assert_eq!(s.as_str().parse::<StartedBy>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).expect("serialises"),
                format!("\"{s}\"")
            );
        }
        assert!("done".parse::<RunStatus>().is_err());
        let json = serde_json::json!({"run": RunId(7), "version": DatasetVersion(3), "by": TokenId::new("00ff")});
        assert_eq!(json.to_string(), r#"{"by":"00ff","run":7,"version":3}"#);
    }
}
