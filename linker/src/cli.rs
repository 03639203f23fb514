//! The command line of `pprl-linker`, here so that tests can check the
//! README's commands against it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The pprl linkage server.
#[derive(Debug, Parser)]
#[command(name = "pprl-linker", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings flags; they win over `PPRL_*` variables, which win over the file.
#[derive(Debug, Args)]
pub struct Common {
    /// Settings file (see `default-config`).
    #[arg(long, global = true, env = "PPRL_SETTINGS")]
    pub settings: Option<PathBuf>,
    /// Data folder: database and uploaded files.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8480 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
        /// Largest accepted upload, in bytes.
        #[arg(long)]
        max_upload_bytes: Option<u64>,
        /// Versions kept per dataset (0 keeps all).
        #[arg(long)]
        keep_versions: Option<usize>,
    },
    /// Run linkage once for a project and publish the outputs (for cron or
    /// systemd timers; the server need not be running).
    Run {
        #[arg(long)]
        project: String,
        /// Run only if some dataset has a new version since the last
        /// publication (as the server's schedule does); otherwise exit 0.
        #[arg(long)]
        if_new: bool,
        /// Publish even if the guard before publishing would hold the run
        /// (see `admin list-runs` for why it held the last one); the audit
        /// log records the override and the reasons. Always runs (not with
        /// `--if-new`, which would skip the held run's unchanged inputs).
        #[arg(long, conflicts_with = "if_new")]
        accept: bool,
    },
    /// Print a commented example settings file.
    DefaultConfig,
    /// Print a commented example project config.
    ProjectTemplate,
    /// Administrator operations on the data folder.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Create a project from its config file.
    CreateProject {
        #[arg(long)]
        config: PathBuf,
    },
    /// Replace a project's config.
    UpdateProject {
        #[arg(long)]
        config: PathBuf,
    },
    /// List projects.
    ListProjects,
    /// Issue an API token; it is printed once and never stored.
    IssueToken {
        /// administrator, partner, evaluator or linkage-analyst (reads
        /// `links.parquet` when the project publishes it).
        #[arg(long)]
        role: String,
        #[arg(long)]
        project: Option<String>,
        /// For partner tokens: the partner named in the project config.
        #[arg(long)]
        partner: Option<String>,
        /// A note to recognise the token by.
        #[arg(long)]
        label: Option<String>,
        /// Write the token to this file (mode 0600) instead of printing it.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Revoke a token by its id.
    RevokeToken { id: String },
    /// List tokens (ids, roles, projects; never secrets).
    ListTokens,
    /// List a project's dataset versions.
    ListVersions {
        #[arg(long)]
        project: String,
    },
    /// List a project's runs: status, what started them, attempt, error.
    ListRuns {
        #[arg(long)]
        project: String,
    },
    /// Store a deletion list (made by `pprl-client erase`) for a dataset:
    /// every later run leaves its records out (as the partner's upload does).
    Erase {
        #[arg(long)]
        project: String,
        #[arg(long)]
        dataset: String,
        /// The deletion list file.
        #[arg(long)]
        list: PathBuf,
    },
    /// List a project's deletion lists: counts, who, when, live or revoked.
    ListDeletionLists {
        #[arg(long)]
        project: String,
    },
    /// Revoke a deletion list: later runs include its records again.
    RevokeDeletionList {
        #[arg(long)]
        project: String,
        /// The list's number (see `list-deletion-lists`).
        #[arg(long)]
        id: u64,
    },
    /// Rotate a project's key (issue 16): the key with this fingerprint
    /// becomes current, the current one retiring. Partners then tokenise
    /// with the new key file, send a re-key map (`pprl-client rekey`) and
    /// upload; runs wait until every dataset is on the new key.
    AddKey {
        #[arg(long)]
        project: String,
        /// The new key's fingerprint (`pprl-client fingerprint --key-file KEY`).
        #[arg(long)]
        fingerprint: String,
        /// The key id its key file names (`pprl-client keygen --key-id N`);
        /// it must be the project's next (see `list-keys`).
        #[arg(long)]
        key_id: Option<u32>,
    },
    /// List a project's keys: id, fingerprint, state (current, retiring,
    /// retired), dates, and the datasets whose current version is on each.
    ListKeys {
        #[arg(long)]
        project: String,
    },
    /// Retire the retiring key once no dataset's current version is on it:
    /// re-key maps from it are refused from then on.
    RetireKey {
        #[arg(long)]
        project: String,
        #[arg(long)]
        key_id: u32,
    },
    /// List a project's re-key maps: dataset, keys, pairs, unmatched, who, when.
    ListRekeyMaps {
        #[arg(long)]
        project: String,
    },
    /// Print the linker's public key and its fingerprint: partners seal
    /// their token files to it (made at the data folder's first use; the
    /// private key stays in `<data-dir>/secrets/` and is never printed).
    LinkerKey,
    /// Show the newest audit-log entries.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}
