//! The command line of `pprl-client`, here so that tests can check the
//! README's commands against it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Privacy-preserving record linkage: the partner's client.
///
/// Keys are read from a file, or from standard input with `--key-file -`;
/// never from the command line.
#[derive(Debug, Parser)]
#[command(name = "pprl-client", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new random project key (file mode 0600; never overwrites).
    Keygen {
        /// Where to write the key file.
        #[arg(long)]
        output: PathBuf,
        /// The project's id for this key, written into the key file and
        /// into every token file made with it: 1 for a project's first key,
        /// the next id at a rotation (the administrator's `admin list-keys`).
        #[arg(long)]
        key_id: Option<u32>,
    },
    /// Print the fingerprint of a key file.
    Fingerprint {
        /// The key file, or `-` for standard input.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Turn an extract (CSV or Parquet) into a token file.
    Tokenise {
        /// The project key file, or `-` for standard input.
        #[arg(long)]
        key_file: PathBuf,
        /// The partner configuration (see `config-template`).
        #[arg(long)]
        config: PathBuf,
        /// The extract.
        #[arg(long)]
        input: PathBuf,
        /// The token file to write.
        #[arg(long)]
        output: PathBuf,
        /// Where rejected rows are listed (default: OUTPUT.rejects.csv).
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Largest share of rejected rows, 0 to 1 (overrides the config).
        #[arg(long)]
        max_reject_fraction: Option<f64>,
        /// Never show a progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Show what a token file holds: manifest, counts and columns.
    Inspect {
        /// The token file.
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a commented example partner configuration.
    ConfigTemplate,
    /// Check a token file, seal it to the linker's key and upload it as a
    /// new dataset version.
    ///
    /// The linker's key must be pinned (`linker_key` or
    /// `linker_key_fingerprint` in the partner config given with --config,
    /// or the flags); without a pin nothing is sent. Only a sealed copy
    /// leaves the machine; the token file itself stays as it is. The API
    /// token comes from the PPRL_TOKEN environment variable or --token-file;
    /// it is never accepted on the command line.
    Upload {
        /// The linker's address, e.g. `https://linker.example.org`
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        dataset: String,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// The partner configuration holding the linker-key pin.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The linker's public key (`age1…`) to seal to (overrides the config).
        #[arg(long)]
        linker_key: Option<String>,
        /// The fingerprint the linker's key must have (overrides the config).
        #[arg(long)]
        linker_key_fingerprint: Option<String>,
        /// The token file to upload.
        file: PathBuf,
    },
    /// Make a re-key map after a key rotation: for each record of the
    /// extract, its record reference under the retiring key paired with its
    /// reference under the new key, so the linker keeps each person's id.
    ///
    /// Only the record id column is read (with the partner config that
    /// tokenise uses); no record id is written. Send it with
    /// `pprl-client upload-rekey-map`, then upload the file tokenised with
    /// the new key.
    Rekey {
        /// The retiring key file (`-` for standard input).
        #[arg(long)]
        old_key: PathBuf,
        /// The new key file.
        #[arg(long)]
        new_key: PathBuf,
        /// The partner configuration.
        #[arg(long)]
        config: PathBuf,
        /// The extract (CSV or Parquet), as given to tokenise.
        #[arg(long)]
        input: PathBuf,
        /// The map to write (refuses to overwrite; mode 0600).
        #[arg(long)]
        output: PathBuf,
    },
    /// Seal a re-key map (from `pprl-client rekey`) to the linker's key and
    /// send it (partner token for the dataset; the linker key pinned as for
    /// `upload`).
    UploadRekeyMap {
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        dataset: String,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// The partner configuration holding the linker-key pin.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The linker's public key (`age1…`) to seal to (overrides the config).
        #[arg(long)]
        linker_key: Option<String>,
        /// The fingerprint the linker's key must have (overrides the config).
        #[arg(long)]
        linker_key_fingerprint: Option<String>,
        /// The re-key map.
        file: PathBuf,
    },
    /// Make a deletion list: the record references of records to erase from
    /// a dataset (opt-out), from a file of your own record ids, one a line.
    ///
    /// The references are made with the project key exactly as `tokenise`
    /// makes each row's; no record id is written. Send the list with
    /// `pprl-client erase`.
    DeletionList {
        /// The project key file, or `-` for standard input.
        #[arg(long)]
        key_file: PathBuf,
        /// The dataset the records were uploaded as (the `dataset` of your
        /// partner config).
        #[arg(long)]
        dataset: String,
        /// The file of record ids, one a line (never given on the command line).
        #[arg(long)]
        ids: PathBuf,
        /// The deletion list to write (refuses to overwrite).
        #[arg(long)]
        output: PathBuf,
    },
    /// Send a deletion list to the linker: every later run leaves those
    /// records out of linkage and out of every output (partner token for
    /// the dataset, or an administrator's).
    Erase {
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        #[arg(long)]
        dataset: String,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// The deletion list (from `pprl-client deletion-list`).
        file: PathBuf,
    },
    /// Show the key the linker offers for sealing and its fingerprint, to
    /// compare with what your project administrator gave you.
    LinkerKey {
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// Download the latest published outputs of a project that your token
    /// may read (evaluator: the cohort and reports; linkage analyst: the
    /// linkage-quality files).
    Download {
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        /// Folder to put the files in (created if needed).
        #[arg(long)]
        output_dir: PathBuf,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// List the dataset versions of a project that your API token may see.
    Versions {
        #[arg(long)]
        server: String,
        #[arg(long)]
        project: String,
        /// File holding the API token (`-` for standard input); default: PPRL_TOKEN.
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
}
