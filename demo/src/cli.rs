//! The command line of `pprl-demo`, here so that tests can check the
//! README's commands against it.

use std::path::PathBuf;

use clap::Parser;

/// pprl end to end on a worked example, with generated data.
#[derive(Debug, Parser)]
#[command(name = "pprl-demo", version)]
pub struct DemoArgs {
    /// Folder for everything the demo makes; emptied first if an earlier
    /// demo made it, refused if anything else did.
    #[arg(default_value = "pprl-demo-output")]
    pub dir: PathBuf,
    /// The worked example to play (a folder under examples/).
    #[arg(long, default_value = "prison-link")]
    pub example: String,
    /// People in the generated population (default: the example's).
    #[arg(long)]
    pub people: Option<usize>,
}
