//! The command line of `pprl-generate`, here so that tests can check the
//! README's commands against it.

use std::path::PathBuf;

use clap::Parser;

use crate::population::Profile;

/// Generate a synthetic population and its partners' extracts, with the ground truth kept aside.
#[derive(Debug, Parser)]
#[command(name = "pprl-generate", version)]
pub struct GenerateArgs {
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of people in the population (each dataset holds a share of
    /// them); default 10,000, or the scenario's.
    #[arg(long)]
    pub people: Option<usize>,
    /// How messy the extracts are: clean, typical or heavy (the standard
    /// datasets; a scenario names its own profile).
    #[arg(long, default_value_t = Profile::Typical)]
    pub profile: Profile,
    /// A scenario file (an example's `generate.toml`): its seed, people,
    /// region, profile and partners' extracts instead of the standard five.
    #[arg(long, conflicts_with_all = ["seed", "profile", "datasets", "bench_columns"])]
    pub scenario: Option<PathBuf>,
    /// Folder to write into; created when missing.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Datasets to write, comma-separated, by name or short name
    /// (prison, probation, police, council, employment); default all.
    #[arg(long, value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// For benchmarks only: add the columns `Synthetic Row` (the row's line
    /// in truth.csv) and `Synthetic Corruptions` (what was corrupted),
    /// passed through as attributes, so that linked outputs can be scored
    /// against the truth. Off by default.
    #[arg(long)]
    pub bench_columns: bool,
}
