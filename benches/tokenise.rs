//! Tokenise benchmark: 1,000,000 synthetic rows, CSV → token file (issue 2).
//!
//! Prints records per second for the whole run with all default match keys
//! and the Bloom encoding, the process's peak memory, and the cost of each
//! stage on one core (on one sample record, and over 20,000 generated rows)
//! next to the cost of a bare HMAC-SHA-256, so the distance to the crypto
//! floor is visible. Run with `cargo bench --bench tokenise`;
//! `PPRL_BENCH_ROWS` changes the row count; `PPRL_BENCH_STAGES=0` skips the
//! single-core stage figures (handy under `valgrind` or `perf`).

use std::hint::black_box;
use std::time::Instant;

use pprl_client::config::PartnerConfig;
use pprl_client::tokenise;
use pprl_generate::simple;
use pprl_keyed::bloom::BloomEncoder;
use pprl_keyed::key::ProjectKey;
use pprl_keyed::matchkey::MatchKeyHasher;
use pprl_specs::normalise::DateOrder;
use pprl_specs::record::{IdentifierKind, NormaliseOptions, NormalisedRecord, RawRecord};

/// The allocator `pprl-client` uses (client/src/main.rs), so that the
/// figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::var("PPRL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("extract.csv");
    let output = dir.path().join("tokens.parquet");
    let started = Instant::now();
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&input)?);
        simple::write_probation_csv(&mut file, rows, 42)?;
    }
    let input_mb = std::fs::metadata(&input)?.len() as f64 / 1e6;
    println!(
        "generated {rows} rows ({input_mb:.1} MB CSV) in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let key = ProjectKey::from_bytes([0x42; 32]);
    let config = PartnerConfig::parse(simple::PROBATION_CONFIG).map_err(anyhow::Error::msg)?;
    let rss_before = peak_rss_mb();
    let cpu_before = process_cpu_secs();
    let started = Instant::now();
    let summary = tokenise::run(&tokenise::Job {
        key: &key,
        config: &config,
        input: &input,
        output: &output,
        rejects: None,
        max_reject_fraction: None,
        now: chrono::Utc::now(),
        progress: None,
    })?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = process_cpu_secs()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let written = summary.manifest.quality.rows_written;
    println!(
        "tokenise: {written} rows written, {} rejected, in {secs:.2} s = {:.0} records/s ({} threads)",
        summary.manifest.quality.rows_rejected,
        rows as f64 / secs,
        rayon::current_num_threads()
    );
    let t = summary.timings;
    println!(
        "stages (busy): read {:.2} s, tokenise {:.2} s (parallel, wall), check+write {:.2} s",
        t.read.as_secs_f64(),
        t.tokenise.as_secs_f64(),
        t.check_and_write.as_secs_f64()
    );
    if let (Some(cpu), Some(read), Some(check)) = (cpu, t.read_cpu, t.check_and_write_cpu) {
        let per_row = |s: f64| s * 1e6 / rows as f64;
        let (read, check) = (read.as_secs_f64(), check.as_secs_f64());
        println!(
            "CPU: {cpu:.2} s = {:.2} us/row on {:.2} cores: read {:.2} us/row, tokenise {:.2} us/row, check+write {:.2} us/row",
            per_row(cpu),
            cpu / secs,
            per_row(read),
            per_row(cpu - read - check),
            per_row(check)
        );
    }
    println!(
        "token file {:.1} MB; peak RSS {:.0} MB (before tokenise {:.0} MB)",
        std::fs::metadata(&output)?.len() as f64 / 1e6,
        peak_rss_mb().unwrap_or(f64::NAN),
        rss_before.unwrap_or(f64::NAN)
    );
    if std::env::var("PPRL_BENCH_STAGES").as_deref() != Ok("0") {
        let hmac_ns = stages(&key);
        generated_stages(&key, &config, &input, hmac_ns)?;
    }
    Ok(())
}

/// Per-record cost of each stage on one core, and of a bare HMAC; returns
/// the cheaper HMAC's cost in ns.
fn stages(key: &ProjectKey) -> f64 {
    let n = 200_000u32;
    let hmac_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7u8; 32]);
    let msg = [0x61u8; 48];
    let t = Instant::now();
    for i in 0..n {
        let mut m = msg;
        m[0] = i as u8;
        black_box(ring::hmac::sign(&hmac_key, &m));
    }
    let ring_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    use hmac::Mac;
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[7u8; 32]).expect("any key length");
    let t = Instant::now();
    for i in 0..n {
        let mut m = msg;
        m[0] = i as u8;
        let mut mac = keyed.clone();
        mac.update(&m);
        black_box(mac.finalize().into_bytes());
    }
    let hmac_ns = t.elapsed().as_nanos() as f64 / f64::from(n);

    let options = options();
    let raw = RawRecord {
        given_names: Some("John Paul"),
        family_name: Some("O'Neil-Smith"),
        date_of_birth: Some("03/02/1980"),
        sex: Some("M"),
        postcode: Some("SW1A 1AA"),
        nhs_number: Some("943 476 5919"),
        pnc_id: Some("01/0012345Z"),
        ..RawRecord::default()
    };
    let t = Instant::now();
    for _ in 0..n {
        black_box(NormalisedRecord::from_raw(black_box(&raw), &options));
    }
    let norm_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    let per_field = |name: &str, f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        format!("{name} {:.0}", t.elapsed().as_nanos() as f64 / f64::from(n))
    };
    use pprl_specs::normalise as nm;
    let fields = [
        per_field("given", &|| {
            black_box(nm::given_names(black_box("John Paul")));
        }),
        per_field("family", &|| {
            black_box(nm::family_name(black_box("O'Neil-Smith")));
        }),
        per_field("dob", &|| {
            black_box(nm::date_of_birth(
                black_box("03/02/1980"),
                DateOrder::DayFirst,
                options.as_of,
            ));
        }),
        per_field("sex", &|| {
            black_box(nm::sex(black_box("M")));
        }),
        per_field("postcode", &|| {
            black_box(nm::postcode(black_box("SW1A 1AA")));
        }),
        per_field("nhs", &|| {
            black_box(nm::nhs_number(black_box("943 476 5919")));
        }),
        per_field("pnc", &|| {
            black_box(nm::pnc_id(black_box("01/0012345Z")));
        }),
    ];
    println!("one core, per field (ns): {}", fields.join(", "));
    let record = NormalisedRecord::from_raw(&raw, &options);
    let hasher = MatchKeyHasher::new(key);
    let t = Instant::now();
    for _ in 0..n {
        black_box(hasher.tokens(black_box(&record)));
    }
    let mk_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    let formed = hasher
        .tokens(&record)
        .iter()
        .filter(|t| t.is_some())
        .count();
    let encoder = BloomEncoder::new(key);
    let t = Instant::now();
    for _ in 0..n {
        black_box(encoder.encode(black_box(&record)));
    }
    let bloom_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    // A record reference of a 48-byte message: the HMAC the client uses
    // (`sha2`'s block core), with the message built and wiped around it.
    let t = Instant::now();
    for _ in 0..n {
        black_box(hasher.record_ref(
            black_box("probation_caseload"),
            black_box("X000000123456789AB"),
        ));
    }
    let ours_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
    println!(
        "one core, per record: normalise {norm_ns:.0} ns, {formed} match keys {mk_ns:.0} ns, bloom {bloom_ns:.0} ns"
    );
    println!(
        "bare HMAC-SHA-256 (48-byte message): RustCrypto hmac+sha2 {hmac_ns:.0} ns, ring {ring_ns:.0} ns, the client's (sha2 block core, message built and wiped) {ours_ns:.0} ns"
    );
    ours_ns.min(hmac_ns)
}

/// Per-record cost of each stage on one core over the first 20,000
/// generated rows (a mix of lengths and missing fields, unlike the one
/// sample record of [`stages`]); the best of five passes. Prints the crypto
/// floor: the rate at which one core does nothing but the average number of
/// HMACs a row needs (its formed match keys and the record reference), at
/// `hmac_ns` each.
fn generated_stages(
    key: &ProjectKey,
    config: &PartnerConfig,
    input: &std::path::Path,
    hmac_ns: f64,
) -> anyhow::Result<()> {
    let mut reader = csv::Reader::from_path(input)?;
    let headers = reader.headers()?.clone();
    // The extract's column of each identifier the generated rows carry, as
    // the partner config maps it.
    let column = |kind: IdentifierKind| {
        let name = &config.identifiers[&kind];
        headers
            .iter()
            .position(|h| h == name)
            .expect("the config names columns of the extract")
    };
    let columns = [
        IdentifierKind::GivenNames,
        IdentifierKind::FamilyName,
        IdentifierKind::DateOfBirth,
        IdentifierKind::Sex,
        IdentifierKind::Postcode,
        IdentifierKind::NhsNumber,
        IdentifierKind::PncId,
    ]
    .map(column);
    let rows: Vec<csv::StringRecord> = reader.records().take(20_000).collect::<Result<_, _>>()?;
    let options = options();
    fn raw<'a>(row: &'a csv::StringRecord, columns: &[usize; 7]) -> RawRecord<'a> {
        let f = |i: usize| row.get(columns[i]);
        RawRecord {
            given_names: f(0),
            family_name: f(1),
            date_of_birth: f(2),
            sex: f(3),
            postcode: f(4),
            nhs_number: f(5),
            pnc_id: f(6),
            ..RawRecord::default()
        }
    }
    let records: Vec<NormalisedRecord> = rows
        .iter()
        .map(|row| NormalisedRecord::from_raw(&raw(row, &columns), &options))
        .collect();
    let hasher = MatchKeyHasher::new(key);
    let encoder = BloomEncoder::new(key);
    let best = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_nanos() as f64 / records.len() as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let normalise = best(&|| {
        for row in &rows {
            black_box(NormalisedRecord::from_raw(
                &raw(black_box(row), &columns),
                &options,
            ));
        }
    });
    let keys = best(&|| {
        for record in &records {
            black_box(hasher.tokens(black_box(record)));
        }
    });
    let bloom = best(&|| {
        for record in &records {
            black_box(encoder.encode(black_box(record)));
        }
    });
    let formed: usize = records
        .iter()
        .map(|r| hasher.tokens(r).iter().flatten().count())
        .sum();
    let formed = formed as f64 / records.len() as f64;
    println!(
        "one core, {} generated rows, per record (best of 5): normalise {normalise:.0} ns, match keys {keys:.0} ns ({formed:.1} formed on average), bloom {bloom:.0} ns",
        records.len(),
    );
    println!(
        "crypto floor: {:.1} HMACs a row (formed match keys + record reference) at {hmac_ns:.0} ns = {:.0} records/s/core",
        formed + 1.0,
        1e9 / (hmac_ns * (formed + 1.0))
    );
    Ok(())
}

/// The normalisation settings of the one-core figures.
fn options() -> NormaliseOptions {
    NormaliseOptions {
        date_order: DateOrder::DayFirst,
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        postcode_format: Default::default(),
    }
}

/// CPU time (user and system) this process has used, in seconds (Linux, 10 ms ticks).
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    let user: u64 = fields.nth(11)?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

/// Peak resident set size of this process (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
