//! `pprl-client`: turn an extract into a token file, and check it.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use pprl_client::cli::{Cli, Command};
use pprl_client::config::{self, PartnerConfig};
use pprl_client::{erasure, inspect, keyfile, rekey, remote, seal, tokenise};

/// mimalloc rather than the system allocator: tokenising makes some ten
/// small allocations a row on two or three threads at once, and frees many
/// of them on another thread than the one that made them, which glibc's
/// malloc serves markedly slower (see benches/RESULTS.md, session 5).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A damaged page that panics the Parquet decoder is caught and refused
    // as a damaged file; its panic message is not printed.
    pprl_tokenfile::quiet_decoder_panics();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Keygen { output, key_id } => {
            let key_id = key_id
                .map(|n| {
                    pprl_specs::key::KeyId::try_new(n)
                        .ok_or_else(|| anyhow::anyhow!("--key-id must be a whole number from 1"))
                })
                .transpose()?;
            let key = keyfile::keygen_with_id(&output, key_id)?;
            println!("wrote {} (mode 0600)", output.display());
            println!("fingerprint {}", key.fingerprint());
            if let Some(id) = key.id() {
                println!("key id {id}");
            }
            eprintln!(
                "Give this file to each partner over a secure channel, and the fingerprint to the linker's administrator."
            );
        }
        Command::Fingerprint { key_file } => {
            println!("{}", keyfile::read_key(&key_file)?.fingerprint());
        }
        Command::Tokenise {
            key_file,
            config,
            input,
            output,
            rejects,
            max_reject_fraction,
            quiet,
        } => {
            let key = keyfile::read_key(&key_file)?;
            let config = PartnerConfig::load(&config)?;
            let bar = progress_bar(quiet);
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let job = tokenise::Job {
                key: &key,
                config: &config,
                input: &input,
                output: &output,
                rejects: rejects.as_deref(),
                max_reject_fraction,
                now: chrono::Utc::now(),
                progress: Some(&progress),
            };
            let result = tokenise::run(&job);
            bar.finish_and_clear();
            let summary = result?;
            let q = &summary.manifest.quality;
            println!(
                "wrote {} ({} rows)",
                summary.output.display(),
                q.rows_written
            );
            println!(
                "rows read {}, written {}, rejected {} (see {})",
                q.rows_read,
                q.rows_written,
                q.rows_rejected,
                summary.rejects.display()
            );
            println!(
                "duplicate record ids {}, duplicate identities {}",
                q.duplicate_record_ids, q.duplicate_identities
            );
            println!(
                "{:<16} {:>10} {:>10} {:>10} {:>12}",
                "identifier", "present", "missing", "invalid", "placeholder"
            );
            for (name, c) in &q.identifiers {
                println!(
                    "{:<16} {:>10} {:>10} {:>10} {:>12}",
                    name, c.present, c.missing, c.invalid, c.placeholder
                );
            }
            if let Some(hint) = tokenise::postcode_hint(&config, q) {
                println!("{hint}");
            }
            println!(
                "key fingerprint {}; check the file with `pprl-client inspect {}`",
                summary.manifest.key_fingerprint,
                summary.output.display()
            );
        }
        Command::Inspect { file, json } => {
            let inspection = inspect::inspect(&file)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&inspection)?);
            } else {
                print!("{}", inspect::render(&inspection));
            }
        }
        Command::ConfigTemplate => print!("{}", config::TEMPLATE),
        Command::Upload {
            server,
            project,
            dataset,
            token_file,
            config,
            linker_key,
            linker_key_fingerprint,
            file,
        } => {
            let config = config.as_deref().map(PartnerConfig::load).transpose()?;
            let pin = seal::Pin::resolve(linker_key, linker_key_fingerprint, config.as_ref())?;
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            let up = remote::upload(&server, &project, &dataset, &file, &token, &pin)?;
            if up.new {
                println!(
                    "uploaded {} sealed as {}/{} version {} ({} rows, stored re-keyed as blake3 {})",
                    file.display(),
                    up.project,
                    up.dataset,
                    up.version,
                    up.rows,
                    up.checksum
                );
            } else {
                println!(
                    "unchanged: {} is already {}/{} version {}",
                    file.display(),
                    up.project,
                    up.dataset,
                    up.version
                );
            }
        }
        Command::Rekey {
            old_key,
            new_key,
            config,
            input,
            output,
        } => {
            let old = keyfile::read_key(&old_key)?;
            let new = keyfile::read_key(&new_key)?;
            let config = PartnerConfig::load(&config)?;
            let made = rekey::make(&old, &new, &config, &input)?;
            rekey::write(&made.map, &output)?;
            println!(
                "wrote {} ({} record references of dataset {} mapped from key {} to key {}; {} rows of {} skipped: unreadable or no record id); no record id is in it",
                output.display(),
                made.map.pairs.len(),
                made.map.dataset,
                made.map.old_key.fingerprint,
                made.map.new_key.fingerprint,
                made.skipped,
                made.rows
            );
            println!(
                "send it with `pprl-client upload-rekey-map --server URL --project PROJECT --dataset {} {}`, then upload the file tokenised with the new key",
                made.map.dataset,
                output.display()
            );
        }
        Command::UploadRekeyMap {
            server,
            project,
            dataset,
            token_file,
            config,
            linker_key,
            linker_key_fingerprint,
            file,
        } => {
            let config = config.as_deref().map(PartnerConfig::load).transpose()?;
            let pin = seal::Pin::resolve(linker_key, linker_key_fingerprint, config.as_ref())?;
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            let m = remote::upload_rekey_map(&server, &project, &dataset, &file, &token, &pin)?;
            println!(
                "re-key map {} stored for {}/{}: {} pairs from key {} to key {}, {} naming no record the linker holds",
                m.map, m.project, m.dataset, m.pairs, m.old_key_id, m.new_key_id, m.unmatched
            );
        }
        Command::DeletionList {
            key_file,
            dataset,
            ids,
            output,
        } => {
            let key = keyfile::read_key(&key_file)?;
            let list = erasure::make(&key, &dataset, &ids)?;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&output)
                .with_context(|| {
                    format!("cannot create {} (it must not exist yet)", output.display())
                })?;
            std::io::Write::write_all(&mut out, list.render().as_bytes())
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "wrote {} ({} record references for dataset {}, key fingerprint {}); no record id is in it",
                output.display(),
                list.refs.len(),
                list.dataset,
                list.key_fingerprint
            );
            println!(
                "send it with `pprl-client erase --server URL --project PROJECT --dataset {} {}`",
                list.dataset,
                output.display()
            );
        }
        Command::Erase {
            server,
            project,
            dataset,
            token_file,
            file,
        } => {
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            let e = remote::erase(&server, &project, &dataset, &file, &token)?;
            println!(
                "deletion list {} stored for {}/{}: {} record references ({} new), {}",
                e.list,
                e.project,
                e.dataset,
                e.refs,
                e.new_refs,
                match (e.matched, e.version) {
                    (Some(m), Some(v)) => format!("{m} matched records of version {v}"),
                    _ => "no version uploaded yet".to_owned(),
                }
            );
            println!(
                "every later run leaves these records out, including from later uploads that still hold them"
            );
        }
        Command::LinkerKey {
            server,
            project,
            token_file,
        } => {
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            let key = remote::linker_key(&server, &project, &token)?;
            println!("linker key {}", key.recipient);
            println!(
                "fingerprint {}",
                pprl_specs::sealing::linker_key_fingerprint(&key.recipient)
            );
            println!(
                "compare the fingerprint with the one your project administrator gave you before pinning it"
            );
        }
        Command::Download {
            server,
            project,
            output_dir,
            token_file,
        } => {
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            let outputs = remote::download(&server, &project, &output_dir, &token)?;
            println!(
                "downloaded run {} of {} (published {}):",
                outputs.run_id, outputs.project, outputs.published_at
            );
            for f in &outputs.files {
                println!(
                    "  {}\t{} bytes\tblake3 {}",
                    output_dir.join(&f.name).display(),
                    f.bytes,
                    f.blake3
                );
            }
        }
        Command::Versions {
            server,
            project,
            token_file,
        } => {
            let token = remote::read_token(token_source(token_file.as_deref()))?;
            for v in remote::versions(&server, &project, &token)? {
                println!(
                    "{}\tv{}\t{} rows\t{} bytes\tkey {}\t{}\tblake3 {}",
                    v.dataset,
                    v.version,
                    v.rows,
                    v.bytes,
                    v.key_fingerprint,
                    v.uploaded_at,
                    v.checksum
                );
            }
        }
    }
    Ok(())
}

fn token_source(file: Option<&std::path::Path>) -> remote::TokenSource<'_> {
    file.map_or(remote::TokenSource::Env, remote::TokenSource::File)
}

/// A byte-progress bar on a terminal; hidden otherwise.
fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent}% eta {eta}",
        )
        .expect("the progress template is valid"),
    );
    bar
}
