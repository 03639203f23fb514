//! `pprl-linker`: the linkage server and its administrator command line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use pprl_linker::auth::Role;
use pprl_linker::cli::{Admin, Cli, Command, Common};
use pprl_linker::ids::RunStatus;
use pprl_linker::schedule::Decision;
use pprl_linker::service::{Actor, Linker, OpError};
use pprl_linker::settings::{self, LogFormat, Overrides, Settings, SettingsFile};
use pprl_linker::{project, scheduler, serve};
use pprl_specs::key::KeyId;

fn main() -> ExitCode {
    // A damaged page that panics the Parquet decoder is caught and refused
    // as a damaged file; its panic message is not printed.
    pprl_tokenfile::quiet_decoder_panics();
    let cli = Cli::parse();
    match run(cli) {
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

fn settings(common: &Common, flags: Overrides) -> Result<Settings> {
    let file = match &common.settings {
        Some(path) => Settings::load_file(path)?,
        None => SettingsFile::default(),
    };
    let env = Overrides::from_env()?;
    let flags = Overrides {
        data_dir: common.data_dir.clone(),
        ..flags
    };
    Ok(Settings::resolve(file, env.then(flags))?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::DefaultConfig => print!("{}", settings::DEFAULT_CONFIG),
        Command::ProjectTemplate => print!("{}", project::TEMPLATE),
        Command::Serve {
            listen,
            max_upload_bytes,
            keep_versions,
        } => {
            let settings = settings(
                &cli.common,
                Overrides {
                    listen,
                    max_upload_bytes,
                    keep_versions,
                    ..Default::default()
                },
            )?;
            init_logs(settings.log_format);
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(serve_until_signal(settings))?;
        }
        Command::Run {
            project,
            if_new,
            accept,
        } => {
            let settings = settings(&cli.common, Overrides::default())?;
            init_logs(settings.log_format);
            let linker = Linker::open(settings).context("cannot open the data folder")?;
            if let Decision::Skip(reason) = linker.runs().run_decision(&project, !if_new)? {
                println!("nothing to do for project {project}: {reason}");
                return Ok(());
            }
            let run_id = linker.runs().begin_run(&project, &Actor::Cli)?;
            let summary = match linker.runs().execute_run(&project, run_id, accept) {
                Ok(summary) => summary,
                // After a key rotation (issue 16): not a failure, nothing linked.
                Err(e @ OpError::MixedKeys { .. }) => {
                    println!("run {run_id} waiting, nothing linked or published: {e}");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            if summary.status == RunStatus::Held {
                println!(
                    "run {} held by the guard, not published; the previous publication stays the latest:",
                    summary.run_id
                );
                for reason in &summary.guard {
                    println!("  {reason}");
                }
                println!(
                    "look into it, then publish it anyway with `pprl-linker run --project {project} --accept`"
                );
                return Ok(());
            }
            if summary.accepted {
                println!("accepted over the guard, which would have held it:");
                for reason in &summary.guard {
                    println!("  {reason}");
                }
            }
            println!(
                "run {} published: {} records, {} persons, {} links (estimated precision {:.4}, recall {:.4}); {} new persons, {} merges, {} splits",
                summary.run_id,
                summary.records,
                summary.persons,
                summary.links_accepted,
                summary.estimated_precision,
                summary.estimated_recall,
                summary.new_persons,
                summary.merges,
                summary.splits
            );
            if summary.erased_records > 0 {
                println!(
                    "{} records erased by deletion lists were left out",
                    summary.erased_records
                );
            }
            println!("stages: {}", summary.seconds);
        }
        Command::Admin(admin) => {
            let settings = settings(&cli.common, Overrides::default())?;
            let linker = Linker::open(settings).context("cannot open the data folder")?;
            run_admin(&linker, admin)?;
        }
    }
    Ok(())
}

async fn serve_until_signal(settings: Settings) -> Result<()> {
    let listen = settings.listen;
    let data_dir = settings.data_dir.clone();
    let linker = Linker::open(settings)
        .with_context(|| format!("cannot open the data folder {}", data_dir.display()))?;
    let (staged, orphans) = linker
        .recover()
        .context("cannot clean up after a previous run")?;
    if staged + orphans > 0 {
        tracing::warn!(
            staged,
            orphans,
            "removed leftovers of an interrupted upload"
        );
    }
    let (failed, folders) = linker
        .runs()
        .recover_runs()
        .context("cannot clean up after an interrupted linkage run")?;
    if failed + folders > 0 {
        tracing::warn!(
            failed,
            folders,
            "marked interrupted runs failed and removed their unpublished outputs"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    // The signal handlers are installed before the address is printed: a
    // script that reads the line and sends SIGTERM at once gets a graceful
    // stop, not the default action (it used to kill the process, status 143).
    let shutdown = shutdown_signal()?;
    tracing::info!(address = %local, data_dir = %data_dir.display(), "pprl-linker listening");
    // Tests and scripts read this line to find the port.
    println!("listening on http://{local}");
    let schedules = scheduler::spawn(linker.clone());
    serve(listener, linker, shutdown)
        .await
        .context("the server failed")?;
    schedules.abort();
    tracing::info!("pprl-linker stopped");
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now and returns the future that
/// completes when either arrives.
#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}

/// The future that completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
    })
}

fn init_logs(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("PPRL_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn read_config(path: &PathBuf) -> Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text)
}

fn run_admin(linker: &Linker, admin: Admin) -> Result<()> {
    let cli = Actor::Cli;
    match admin {
        Admin::CreateProject { config } => {
            let config = linker
                .create_project(&read_config(&config)?, &cli)
                .with_context(|| format!("{} was refused", config.display()))?;
            println!(
                "created project {} ({} datasets, key fingerprint {})",
                config.name,
                config.datasets.len(),
                config.fingerprint()
            );
            println!(
                "partners seal uploads to linker key {} (fingerprint {}; see `admin linker-key`)",
                linker.secrets.identity().recipient(),
                linker.secrets.identity().fingerprint()
            );
        }
        Admin::AddKey {
            project,
            fingerprint,
            key_id,
        } => {
            let key_id = key_id
                .map(|n| {
                    KeyId::try_new(n)
                        .ok_or_else(|| anyhow!("--key-id must be a whole number from 1"))
                })
                .transpose()?;
            let key = linker.add_key(&project, &fingerprint, key_id, &cli)?;
            println!(
                "key {} ({}) is now the current key of project {project}; the previous one is retiring",
                key.key_id, key.fingerprint
            );
            println!(
                "partners: tokenise with the new key file, send a re-key map (`pprl-client rekey`, `pprl-client upload-rekey-map`), then upload; runs wait until every dataset is on key {}",
                key.key_id
            );
        }
        Admin::ListKeys { project } => {
            let config = linker.project_config(&project)?;
            let mut on_key: std::collections::HashMap<String, Vec<String>> =
                std::collections::HashMap::new();
            for d in &config.datasets {
                if let Some(v) = linker.meta.versions(&project, Some(&d.name))?.pop() {
                    on_key
                        .entry(v.key_fingerprint.to_ascii_lowercase())
                        .or_default()
                        .push(d.name.clone());
                }
            }
            for k in linker.project_keys(&project)? {
                let datasets = on_key.remove(&k.fingerprint).unwrap_or_default();
                println!(
                    "key {}\t{}\t{}\tadded {}\t{}\tdatasets: {}",
                    k.key_id,
                    k.fingerprint,
                    k.state,
                    k.added_at,
                    k.retired_at
                        .map(|r| format!("retired {r}"))
                        .unwrap_or_else(|| "-".to_owned()),
                    if datasets.is_empty() {
                        "-".to_owned()
                    } else {
                        datasets.join(", ")
                    }
                );
            }
        }
        Admin::RetireKey { project, key_id } => {
            let key = linker.retire_key(&project, key_id, &cli)?;
            println!(
                "key {} ({}) of project {project} is retired",
                key.key_id, key.fingerprint
            );
        }
        Admin::ListRekeyMaps { project } => {
            linker.project_config(&project)?;
            for m in linker.meta.rekey_maps(&project)? {
                println!(
                    "map {}\t{}\tkey {} -> key {}\t{} pairs\t{} unmatched\tby {}\t{}",
                    m.id,
                    m.dataset,
                    m.old_key_id,
                    m.new_key_id,
                    m.pairs,
                    m.unmatched,
                    m.uploaded_by,
                    m.uploaded_at
                );
            }
        }
        Admin::LinkerKey => {
            let key = linker.secrets.identity();
            println!("linker key {}", key.recipient());
            println!("fingerprint {}", key.fingerprint());
            println!(
                "partners pin it in partner.toml: linker_key = \"{}\" (or linker_key_fingerprint = \"{}\")",
                key.recipient(),
                key.fingerprint()
            );
        }
        Admin::UpdateProject { config } => {
            let config = linker
                .update_project(&read_config(&config)?, &cli)
                .with_context(|| format!("{} was refused", config.display()))?;
            println!("updated project {}", config.name);
        }
        Admin::ListProjects => {
            for p in linker.meta.projects()? {
                println!(
                    "{}\tkey {}\tcreated {}",
                    p.name, p.key_fingerprint, p.created_at
                );
            }
        }
        Admin::IssueToken {
            role,
            project,
            partner,
            label,
            output,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow!(
                    "role `{role}` must be administrator, partner, evaluator or linkage-analyst"
                )
            })?;
            let issued = linker.issue_token(
                role,
                project.as_deref(),
                partner.as_deref(),
                label.as_deref(),
                &cli,
            )?;
            let secret = issued.expose_secret();
            match output {
                Some(path) => {
                    write_secret_file(&path, &secret)?;
                    println!(
                        "token {} ({}) written to {}",
                        issued.id,
                        role.as_str(),
                        path.display()
                    );
                }
                None => {
                    println!("{}", secret.as_str());
                    eprintln!(
                        "token {} ({}): shown once, store it now; only its hash is kept",
                        issued.id,
                        role.as_str()
                    );
                }
            }
        }
        Admin::RevokeToken { id } => {
            linker.revoke_token(&pprl_linker::ids::TokenId::new(id.clone()), &cli)?;
            println!("revoked token {id}");
        }
        Admin::ListTokens => {
            for t in linker.meta.tokens()? {
                println!(
                    "{}\t{}\tproject={}\tpartner={}\tlabel={}\tcreated {}\t{}",
                    t.id,
                    t.role.as_str(),
                    t.project.as_deref().unwrap_or("-"),
                    t.partner.as_deref().unwrap_or("-"),
                    t.label.as_deref().unwrap_or("-"),
                    t.created_at,
                    t.revoked_at
                        .map(|r| format!("revoked {r}"))
                        .unwrap_or_else(|| "live".to_owned())
                );
            }
        }
        Admin::ListVersions { project } => {
            for v in linker.meta.versions(&project, None)? {
                println!(
                    "{}\tv{}\t{} rows\t{} bytes\tblake3 {}\t{}",
                    v.dataset, v.version, v.rows, v.bytes, v.checksum, v.uploaded_at
                );
            }
        }
        Admin::ListRuns { project } => {
            for r in linker.meta.runs(&project)? {
                let inputs = r
                    .inputs
                    .map(|i| {
                        i.iter()
                            .map(|(d, v)| format!("{d} v{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "-".to_owned());
                let note = match (r.status, r.guard.is_empty()) {
                    (_, true) => r.error.unwrap_or_default(),
                    (RunStatus::Held, false) => format!("held: {}", r.guard.join("; ")),
                    (_, false) => format!("accepted over the guard: {}", r.guard.join("; ")),
                };
                println!(
                    "run {}\t{}\t{} (attempt {})\tstarted {}\tfinished {}\t{}\t{}",
                    r.id,
                    r.status,
                    r.started_by,
                    r.attempt,
                    r.started_at,
                    r.finished_at.as_deref().unwrap_or("-"),
                    inputs,
                    note
                );
            }
        }
        Admin::Erase {
            project,
            dataset,
            list,
        } => {
            let body =
                std::fs::read(&list).with_context(|| format!("cannot read {}", list.display()))?;
            let config = linker.project_config(&project)?;
            if config.dataset(&dataset).is_none() {
                anyhow::bail!("project `{project}` has no dataset `{dataset}`");
            }
            let r = linker.erase(&cli, &config, &dataset, &body)?;
            println!(
                "deletion list {} stored for {}/{}: {} record references ({} new), {}",
                r.list,
                r.project,
                r.dataset,
                r.refs,
                r.new_refs,
                match (r.matched, r.version) {
                    (Some(m), Some(v)) => format!("{m} matched records of version {v}"),
                    _ => "no version uploaded yet".to_owned(),
                }
            );
        }
        Admin::ListDeletionLists { project } => {
            for l in linker.deletion_lists(&project)? {
                println!(
                    "list {}	{}	{} refs ({} new)	by {}	{}	{}",
                    l.id,
                    l.dataset,
                    l.refs,
                    l.new_refs,
                    l.uploaded_by,
                    l.uploaded_at,
                    l.revoked_at
                        .map(|r| format!("revoked {r}"))
                        .unwrap_or_else(|| "live".to_owned())
                );
            }
        }
        Admin::RevokeDeletionList { project, id } => {
            linker.revoke_deletion_list(&project, id, &cli)?;
            println!(
                "deletion list {id} of {project} revoked: the next run includes its records again"
            );
        }
        Admin::Audit { limit } => {
            for e in linker.meta.audit_log(limit)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}/{}\t{}",
                    e.at,
                    e.actor.unwrap_or_default(),
                    e.action,
                    e.outcome,
                    e.project.unwrap_or_default(),
                    e.dataset.unwrap_or_default(),
                    e.detail.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// Writes a secret to a new file with mode 0600; never overwrites.
fn write_secret_file(path: &PathBuf, secret: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}
