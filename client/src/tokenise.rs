//! `pprl-client tokenise`: an extract in, a token file and a rejects file out.
//!
//! Three stages run at once with bounded queues between them, so memory stays
//! flat whatever the file size: a reader thread fills batches of rows; the
//! calling thread tokenises each batch across the rayon pool and checks it in
//! order (duplicates, counts); a writer thread encodes Parquet.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use crossbeam_channel::bounded;
use pprl_keyed::key::ProjectKey;
use pprl_specs::matchkey::{MATCH_KEY_COUNT, MATCH_KEYS, TOKEN_LEN, Token};
use pprl_specs::normalise::FieldState;
use pprl_specs::record::IdentifierKind;
use pprl_specs::tokenfile::{BloomParams, IdentifierCounts, Manifest, QualityCounts};
use rayon::prelude::*;

use crate::config::{PartnerConfig, Settings};
use crate::input::{self, RowBatch};
use crate::row::{Outcome, Reject, RowTokeniser, TokenRow};
use crate::writer::TokenFileWriter;

/// Rows per batch handed to the worker pool. Small enough that a batch's
/// outcomes (about 2 MB) are still in the cache when the checker reads them
/// and the writer copies them, large enough that the per-batch costs
/// (a fork-join, a Parquet write call) stay negligible. A divisor of the
/// row-group size, so batches never straddle row groups.
pub const BATCH_ROWS: usize = 4_096;
const _: () = assert!(crate::writer::ROW_GROUP_ROWS.is_multiple_of(BATCH_ROWS));

/// What to tokenise and where to put it.
pub struct Job<'a> {
    pub key: &'a ProjectKey,
    pub config: &'a PartnerConfig,
    pub input: &'a Path,
    pub output: &'a Path,
    /// Where rejected rows go; by default beside the output.
    pub rejects: Option<&'a Path>,
    /// Overrides the config's `rejects.max_fraction`.
    pub max_reject_fraction: Option<f64>,
    /// The clock, passed in: the manifest's creation time and the upper bound on dates of birth.
    pub now: DateTime<Utc>,
    /// Called with (done, total) as the input is read.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("input", &self.input)
            .field("output", &self.output)
            .field("dataset", &self.config.dataset)
            .finish_non_exhaustive()
    }
}

/// What a finished run reports.
#[derive(Debug)]
pub struct Summary {
    pub manifest: Manifest,
    pub output: PathBuf,
    pub rejects: PathBuf,
    pub timings: Timings,
}

/// Busy time of each pipeline stage, for the benchmark.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timings {
    /// Reading and splitting the extract (reader thread).
    pub read: Duration,
    /// Normalising and hashing (wall time of the parallel sections).
    pub tokenise: Duration,
    /// Checking duplicates, counting and writing Parquet (checker thread).
    pub check_and_write: Duration,
    /// CPU time of the reader thread, where the OS reports it (Linux).
    pub read_cpu: Option<Duration>,
    /// CPU time of the checker thread, where the OS reports it (Linux).
    pub check_and_write_cpu: Option<Duration>,
}

/// CPU time (user and system) the calling thread has used, where the OS
/// reports it (Linux, in clock ticks of 10 ms). Unlike wall time, it does
/// not grow when other processes share the cores, so the benchmark can
/// report per-stage costs on a busy machine.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields follow the command name, which is in parentheses and may hold
    // spaces; the first after it is field 3, utime and stime are 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// Why a run wrote no token file, with the counts so far.
#[derive(Debug, thiserror::Error)]
pub enum TokeniseFailure {
    #[error("{input} has a header line but no rows; no token file was written")]
    NoRows { input: String },
    #[error(
        "no usable rows: all {read} rows were rejected; see {rejects} for each row's line and reason"
    )]
    NothingUsable { read: u64, rejects: String },
    #[error(
        "{rejected} of {read} rows were rejected ({percent:.1}%), more than the allowed {allowed:.1}%; no token file was written. See {rejects} for each row's line and reason, fix the extract or the config, or raise rejects.max_fraction"
    )]
    TooManyRejects {
        rejected: u64,
        read: u64,
        percent: f64,
        allowed: f64,
        rejects: String,
    },
}

/// The default rejects path: `<output>.rejects.csv`.
pub fn default_rejects_path(output: &Path) -> PathBuf {
    let mut name = output
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".rejects.csv");
    output.with_file_name(name)
}

/// Runs a tokenise job.
pub fn run(job: &Job<'_>) -> Result<Summary> {
    let base = crate::config::BaseSettings::check(job.config)?;
    let mut source = input::open(
        job.input,
        job.config.input.format,
        base.delimiter,
        base.encoding,
    )?;
    let settings = Settings::resolve(job.config, source.header())?;
    source.select(&settings.columns)?;
    let max_fraction = job
        .max_reject_fraction
        .unwrap_or(settings.max_reject_fraction);
    let rejects_path = job
        .rejects
        .map(Path::to_owned)
        .unwrap_or_else(|| default_rejects_path(job.output));
    let rejects = RejectsFile::create(&rejects_path)?;
    let tokeniser = RowTokeniser::new(job.key, &settings, job.now.date_naive());
    let mut writer = TokenFileWriter::create(job.output, &settings.attributes)?;

    let mut timings = Timings::default();
    // The number of rows, estimated from the first batch, so that the
    // checker sizes its duplicate sets once instead of growing them.
    let estimated_rows = std::sync::OnceLock::<u64>::new();
    let estimated_rows = &estimated_rows;
    let quality = std::thread::scope(|scope| -> Result<QualityCounts> {
        let (batch_tx, batch_rx) = bounded::<RowBatch>(2);
        let (outcome_tx, outcome_rx) = bounded::<Vec<Outcome>>(2);
        // Batches and outcome vectors go back to be refilled, so that their
        // memory (megabytes a batch) is not allocated and faulted in anew.
        // Room for every batch or outcome vector in flight (two queued, one
        // being filled, one being checked), so none is dropped and remade.
        let (spare_batch_tx, spare_batch_rx) = bounded::<RowBatch>(4);
        let (spare_outcomes_tx, spare_outcomes_rx) = bounded::<Vec<Outcome>>(4);
        let reader = scope.spawn(move || -> Result<(Duration, Option<Duration>)> {
            let mut busy = Duration::ZERO;
            loop {
                let started = Instant::now();
                let mut batch = spare_batch_rx.try_recv().unwrap_or_default();
                source.next_batch(&mut batch, BATCH_ROWS)?;
                if batch.is_empty() {
                    break;
                }
                if estimated_rows.get().is_none() {
                    let (done, total) = source.progress();
                    let rows = batch.len() as u64;
                    let estimate = match done {
                        0 => rows,
                        done => rows.saturating_mul(total.max(done)) / done,
                    };
                    let _ = estimated_rows.set(estimate);
                }
                busy += started.elapsed();
                if let Some(progress) = job.progress {
                    let (done, total) = source.progress();
                    progress(done, total);
                }
                if batch_tx.send(batch).is_err() {
                    break;
                }
            }
            Ok((busy, thread_cpu_time()))
        });
        let writer_ref = &mut writer;
        let checker_thread = scope.spawn(
            move || -> Result<(QualityCounts, Duration, Option<Duration>)> {
                let mut checker = Checker::new(rejects);
                let mut busy = Duration::ZERO;
                for mut outcomes in outcome_rx {
                    let started = Instant::now();
                    if checker.quality.rows_read == 0 {
                        // Set by the reader before it sent the first batch.
                        checker.reserve(estimated_rows.get().copied().unwrap_or(0));
                    }
                    let accepted = checker.check(&outcomes)?;
                    let rows: Vec<&TokenRow> = accepted
                        .iter()
                        .filter_map(|&i| outcomes[i].result.as_ref().ok())
                        .collect();
                    writer_ref.write(&rows)?;
                    outcomes.clear();
                    let _ = spare_outcomes_tx.try_send(outcomes);
                    busy += started.elapsed();
                }
                Ok((checker.finish()?, busy, thread_cpu_time()))
            },
        );
        for mut batch in batch_rx {
            let started = Instant::now();
            let mut outcomes = spare_outcomes_rx.try_recv().unwrap_or_default();
            (0..batch.len())
                .into_par_iter()
                .map(|row| tokeniser.process(&batch, row))
                .collect_into_vec(&mut outcomes);
            batch.clear();
            let _ = spare_batch_tx.try_send(batch);
            timings.tokenise += started.elapsed();
            if outcome_tx.send(outcomes).is_err() {
                break; // the checker failed; its error is reported below
            }
        }
        drop(outcome_tx);
        let checked = checker_thread
            .join()
            .expect("the checker thread does not panic");
        let read = reader.join().expect("the reader thread does not panic");
        let (quality, busy, checker_cpu) = checked?;
        timings.check_and_write = busy;
        timings.check_and_write_cpu = checker_cpu;
        (timings.read, timings.read_cpu) = read?;
        Ok(quality)
    })?;

    let rejects_display = rejects_path.display().to_string();
    if quality.rows_read == 0 {
        return Err(TokeniseFailure::NoRows {
            input: job.input.display().to_string(),
        }
        .into());
    }
    if quality.rows_written == 0 {
        return Err(TokeniseFailure::NothingUsable {
            read: quality.rows_read,
            rejects: rejects_display,
        }
        .into());
    }
    let fraction = quality.rows_rejected as f64 / quality.rows_read as f64;
    if fraction > max_fraction {
        return Err(TokeniseFailure::TooManyRejects {
            rejected: quality.rows_rejected,
            read: quality.rows_read,
            percent: fraction * 100.0,
            allowed: max_fraction * 100.0,
            rejects: rejects_display,
        }
        .into());
    }
    let manifest = Manifest {
        spec_version: pprl_specs::SPEC_VERSION.to_owned(),
        key_fingerprint: job.key.fingerprint().to_string(),
        key_id: job.key.id().map(|id| id.get()),
        dataset: settings.dataset.clone(),
        row_count: quality.rows_written,
        created_at: job.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        client_version: env!("CARGO_PKG_VERSION").to_owned(),
        match_keys: MATCH_KEYS.iter().map(|d| d.name.to_owned()).collect(),
        bloom: BloomParams::v1(),
        attributes: settings.attributes.clone(),
        quality,
    };
    writer.finish(&manifest)?;
    Ok(Summary {
        manifest,
        output: job.output.to_owned(),
        rejects: rejects_path,
        timings,
    })
}

/// The in-order stage: duplicate checks, quality counts and the rejects file.
struct Checker {
    quality: QualityCounts,
    rejects: RejectsFile,
    /// Per identifier kind, in [`IdentifierKind::ALL`] order less the record id: counts by state.
    identifiers: [IdentifierCounts; 10],
    /// Per match key: written rows where it was formed.
    keys_formed: [u64; MATCH_KEY_COUNT],
    /// Record reference → line where it was first seen.
    seen_refs: TokenTable<u64>,
    /// Tokens of the `first_family_dob` key already written.
    seen_identities: TokenTable<()>,
    identity: usize,
}

impl Checker {
    fn new(rejects: RejectsFile) -> Self {
        Checker {
            quality: QualityCounts::default(),
            rejects,
            identifiers: Default::default(),
            keys_formed: [0; MATCH_KEY_COUNT],
            seen_refs: TokenTable::new(),
            seen_identities: TokenTable::new(),
            identity: MATCH_KEYS
                .iter()
                .position(|d| d.name == "first_family_dob")
                .expect("the spec defines first_family_dob"),
        }
    }

    /// Sizes the duplicate sets for about `rows` rows (at most
    /// [`Checker::MAX_RESERVED_ROWS`]; they grow past that as needed).
    fn reserve(&mut self, rows: u64) {
        let rows = rows.min(Self::MAX_RESERVED_ROWS) as usize;
        self.seen_refs.reserve(rows);
        self.seen_identities.reserve(rows);
    }

    /// Rows the duplicate sets are sized for up front, at most.
    const MAX_RESERVED_ROWS: u64 = 4_000_000;

    /// Rows whose duplicate-set slots are read ahead of checking them.
    const LOOK_AHEAD: usize = 16;

    /// Checks a batch in order; returns which outcomes are rows to write.
    fn check(&mut self, outcomes: &[Outcome]) -> Result<Vec<usize>> {
        let mut rows = Vec::with_capacity(outcomes.len());
        for (chunk_index, chunk) in outcomes.chunks(Self::LOOK_AHEAD).enumerate() {
            // Independent loads, whose cache misses overlap; the checks
            // below then find the slots cached.
            let mut touched = 0u8;
            for row in chunk.iter().filter_map(|o| o.result.as_ref().ok()) {
                touched ^= self.seen_refs.touch(&row.record_ref);
                if let Some(token) = &row.tokens[self.identity] {
                    touched ^= self.seen_identities.touch(token);
                }
            }
            std::hint::black_box(touched);
            for (offset, outcome) in chunk.iter().enumerate() {
                if self.check_one(outcome)? {
                    rows.push(chunk_index * Self::LOOK_AHEAD + offset);
                }
            }
        }
        Ok(rows)
    }

    /// Checks one row; whether it is to be written.
    fn check_one(&mut self, outcome: &Outcome) -> Result<bool> {
        self.quality.rows_read += 1;
        if let Some(states) = &outcome.states {
            for ((_, state), counts) in states.iter().zip(&mut self.identifiers) {
                match state {
                    FieldState::Present => counts.present += 1,
                    FieldState::Missing => counts.missing += 1,
                    FieldState::Invalid => counts.invalid += 1,
                    FieldState::Placeholder => counts.placeholder += 1,
                }
            }
        }
        let row = match &outcome.result {
            Ok(row) => row,
            Err(reject) => {
                self.quality.rows_rejected += 1;
                self.rejects.write(reject)?;
                return Ok(false);
            }
        };
        // One look-up: it both finds a repeat and records a first sighting.
        if let Some(first) = self.seen_refs.insert(row.record_ref, row.line) {
            self.quality.rows_rejected += 1;
            self.quality.duplicate_record_ids += 1;
            self.rejects.write(&Reject {
                line: row.line,
                column: None,
                field: Some("record_id".to_owned()),
                reason: format!("record id repeats the record on line {first}"),
            })?;
            return Ok(false);
        }
        if let Some(token) = row.tokens[self.identity]
            && self.seen_identities.insert(token, ()).is_some()
        {
            self.quality.duplicate_identities += 1;
        }
        for (formed, token) in self.keys_formed.iter_mut().zip(&row.tokens) {
            *formed += u64::from(token.is_some());
        }
        self.quality.rows_written += 1;
        Ok(true)
    }

    /// Closes the rejects file and returns the counts.
    fn finish(mut self) -> Result<QualityCounts> {
        self.rejects.finish()?;
        // `states()` lists kinds in IdentifierKind::ALL order, less the record id.
        for (kind, counts) in IdentifierKind::ALL[1..].iter().zip(self.identifiers) {
            self.quality
                .identifiers
                .insert(kind.name().to_owned(), counts);
        }
        for (def, formed) in MATCH_KEYS.iter().zip(self.keys_formed) {
            self.quality
                .match_keys_formed
                .insert(def.name.to_owned(), formed);
        }
        Ok(self.quality)
    }
}

/// An open-addressing hash table keyed by tokens (linear probing, at most
/// half full): the checker's duplicate sets.
///
/// Tokens are keyed HMAC outputs, uniformly distributed to anyone without
/// the key, so a token's first eight bytes pick its slot with no further
/// hashing, and nobody without the key can choose colliding tokens. Unlike
/// a general hash map, where a look-up will start is known before it is
/// made: the checker loads the slots of the next rows first, so that their
/// cache misses overlap ([`Checker::check`]). With a million rows the two
/// sets are tens of megabytes, and a miss per row and set, one after the
/// other, was most of the checker's time.
struct TokenTable<V> {
    /// Each slot's token and value; the all-zero token marks an empty slot.
    /// The length is a power of two.
    slots: Vec<(Token, V)>,
    len: usize,
    /// The value of the all-zero token, which no slot can hold.
    zero: Option<V>,
}

/// The token of an empty slot.
const EMPTY: Token = [0; TOKEN_LEN];

impl<V: Copy + Default> TokenTable<V> {
    fn new() -> Self {
        TokenTable {
            slots: vec![(EMPTY, V::default()); 1024],
            len: 0,
            zero: None,
        }
    }

    /// Makes room for `tokens` tokens in all.
    fn reserve(&mut self, tokens: usize) {
        let slots = tokens.saturating_mul(2).next_power_of_two();
        if slots > self.slots.len() {
            self.resize(slots);
        }
    }

    /// The slot where a look-up of `token` starts.
    fn home(&self, token: &Token) -> usize {
        let mut word = [0u8; 8];
        word.copy_from_slice(&token[..8]);
        u64::from_le_bytes(word) as usize & (self.slots.len() - 1)
    }

    /// Reads the slot where a look-up of `token` starts, so that the look-up
    /// finds it cached; returns a byte of it for the caller to keep.
    fn touch(&self, token: &Token) -> u8 {
        self.slots[self.home(token)].0[0]
    }

    /// Adds `token` with `value`, unless it is there already: then returns
    /// the value it was added with.
    fn insert(&mut self, token: Token, value: V) -> Option<V> {
        if token == EMPTY {
            return match self.zero {
                Some(first) => Some(first),
                None => {
                    self.zero = Some(value);
                    None
                }
            };
        }
        if (self.len + 1) * 2 > self.slots.len() {
            self.resize(self.slots.len() * 2);
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(&token);
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == token {
                return Some(slot.1);
            }
            if slot.0 == EMPTY {
                *slot = (token, value);
                self.len += 1;
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![(EMPTY, V::default()); slots]);
        self.len = 0;
        for (token, value) in old {
            if token != EMPTY {
                self.insert(token, value);
            }
        }
    }
}

/// The rejects file: CSV of line, column, field and reason. It never holds
/// the rejected value, so it is safe to share with whoever fixes the extract.
struct RejectsFile {
    out: csv::Writer<BufWriter<File>>,
    path: PathBuf,
}

impl RejectsFile {
    fn create(path: &Path) -> Result<Self> {
        let file = File::create(path)
            .with_context(|| format!("cannot create rejects file {}", path.display()))?;
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        out.write_record(["line", "column", "field", "reason"])?;
        Ok(RejectsFile {
            out,
            path: path.to_owned(),
        })
    }

    fn write(&mut self, reject: &Reject) -> Result<()> {
        self.out
            .write_record([
                reject.line.to_string().as_str(),
                reject.column.as_deref().unwrap_or(""),
                reject.field.as_deref().unwrap_or(""),
                reject.reason.as_str(),
            ])
            .with_context(|| format!("cannot write rejects file {}", self.path.display()))
    }

    fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        let inner = self
            .out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        inner
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?
            .sync_all()?;
        Ok(())
    }
}

/// A hint when most postcodes were refused as UK postcodes: the extract is
/// probably from another country, whose codes `postcode_format = "any"`
/// keeps. (Refused postcodes are counted as invalid, and the records keep
/// their other identifiers; linkage just loses the postcode's evidence.)
pub fn postcode_hint(
    config: &crate::config::PartnerConfig,
    quality: &pprl_specs::tokenfile::QualityCounts,
) -> Option<String> {
    use pprl_specs::normalise::PostcodeFormat;
    if config.input.postcode_format != PostcodeFormat::Uk {
        return None;
    }
    let counts = quality.identifiers.get("postcode")?;
    let given = counts.present + counts.invalid;
    (given > 0 && counts.invalid * 2 > given).then(|| {
        format!(
            "note: {} of {} postcodes are not UK postcodes; if the extract is from another \
             country, set `postcode_format = \"any\"` under [input] in the partner configuration",
            counts.invalid, given
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_postcodes_refused_as_uk_gives_a_note_naming_the_setting() {
        use pprl_specs::tokenfile::{IdentifierCounts, QualityCounts};
        let config = |format: &str| {
            crate::config::PartnerConfig::parse(&format!(
                "dataset = \"d\"\n[input]\npostcode_format = \"{format}\"\n\
                 [identifiers]\nrecord_id = \"id\"\npostcode = \"pc\"\n"
            ))
            .expect("a valid config")
        };
        let quality = |present, invalid| {
            let mut q = QualityCounts::default();
            q.identifiers.insert(
                "postcode".to_owned(),
                IdentifierCounts {
                    present,
                    invalid,
                    missing: 5,
                    placeholder: 0,
                },
            );
            q
        };
        let note = postcode_hint(&config("uk"), &quality(10, 90)).expect("a note");
        assert!(
            note.contains("90 of 100") && note.contains("postcode_format = \"any\""),
            "{note}"
        );
        assert_eq!(postcode_hint(&config("uk"), &quality(90, 10)), None);
        assert_eq!(postcode_hint(&config("any"), &quality(10, 90)), None);
        assert_eq!(
            postcode_hint(&config("uk"), &QualityCounts::default()),
            None
        );
    }

    fn token(i: u64) -> Token {
        let mut t = [0u8; TOKEN_LEN];
        // Equal low bytes: every token starts its look-up in the same slot.
        t[8..].copy_from_slice(&i.to_le_bytes());
        t
    }

    #[test]
    fn token_table_finds_repeats_and_grows() {
        let mut table = TokenTable::<u64>::new();
        for i in 1..=3_000 {
            assert_eq!(table.insert(token(i), i), None);
        }
        for i in 1..=3_000 {
            assert_eq!(table.insert(token(i), 0), Some(i), "{i}");
        }
        assert_eq!(table.len, 3_000);
        assert!(table.slots.len() >= 6_000);
        // The all-zero token, which marks empty slots, is a token like any other.
        assert_eq!(table.insert([0; TOKEN_LEN], 7), None);
        assert_eq!(table.insert([0; TOKEN_LEN], 8), Some(7));
        let mut random = TokenTable::<()>::new();
        random.reserve(10_000);
        let slots = random.slots.len();
        for i in 0..10_000u64 {
            let mut t = [0u8; TOKEN_LEN];
            t[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
            t[8] = 1;
            assert_eq!(random.insert(t, ()), None);
            assert_eq!(random.insert(t, ()), Some(()));
        }
        assert_eq!(random.slots.len(), slots, "reserve made room for all");
    }
}
