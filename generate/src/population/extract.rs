//! Writing an extract: which people appear, in chunks made in parallel and
//! written in order, the ground truth aside, and the counts ([`ExtractStats`]).

use std::io::{self, Write};

use chrono::Datelike;

use crate::rng::Rng;

use super::dataset::{Content, DatasetSpec, Style, TextEncoding};
use super::identifiers::mix;
use super::people::Person;
use super::profile::Corruption;
use super::row::RowMaker;

/// FNV-1a, a stable hash of a dataset's name for its seed.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The header of the ground-truth file, which [`write_extract`] does not
/// write (so that several extracts can share one truth file).
pub const TRUTH_HEADER: &str = "dataset,record_id,person_id\n";

/// What [`write_extract`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractStats {
    pub dataset: String,
    /// Rows written (excluding the header); also the truth rows written.
    pub rows: u64,
    /// Distinct people in the extract.
    pub people: u64,
    /// Rows beyond a person's first: `rows - people`.
    pub duplicates: u64,
    pub(super) applied: [u64; Corruption::COUNT],
    opportunities: [u64; Corruption::COUNT],
}

impl ExtractStats {
    pub(super) fn new(dataset: &str) -> Self {
        ExtractStats {
            dataset: dataset.to_owned(),
            rows: 0,
            people: 0,
            duplicates: 0,
            applied: [0; Corruption::COUNT],
            opportunities: [0; Corruption::COUNT],
        }
    }

    /// How many times a corruption was applied.
    pub fn applied(&self, corruption: Corruption) -> u64 {
        self.applied[corruption as usize]
    }

    /// How many times it could have been (see the last column of [`RATE_TABLE`](super::RATE_TABLE)).
    pub fn opportunities(&self, corruption: Corruption) -> u64 {
        self.opportunities[corruption as usize]
    }

    /// Draws a corruption at `rate`, counting the draw and the hit.
    pub(super) fn roll(&mut self, rng: &mut Rng, corruption: Corruption, rate: f64) -> bool {
        self.opportunities[corruption as usize] += 1;
        let hit = rng.chance(rate);
        self.applied[corruption as usize] += u64::from(hit);
        hit
    }
}

/// Writes one partner's extract of `people` as CSV to `csv_out`, and its
/// ground truth, one `dataset,record_id,person_id` line per extract row in the
/// same order and without a header ([`TRUTH_HEADER`]), to `truth_out`.
///
/// Streams: memory holds the people's indexes in the file's (shuffled)
/// order, four bytes a row, and one row at a time. Deterministic for
/// (`people`, `spec`, `seed`); the seed is mixed with the dataset's name, so
/// datasets drawn with one seed are independent.
pub fn write_extract(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    csv_out: impl Write,
    truth_out: impl Write,
) -> io::Result<ExtractStats> {
    write_extract_drawn(people, spec, seed, Draw::default(), csv_out, truth_out)
}

/// Who appears in an extract when that is not the same for everyone: a
/// coverage per person, rows beyond those (prior events), and people whose
/// rows are all dated in another range (late referrals). The scenario
/// layer builds it from its covariate models; [`write_extract`] uses the
/// dataset's own coverage for everyone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Draw<'a> {
    /// One probability of appearing per person, in the order of the people;
    /// empty: the dataset's own coverage for everyone.
    pub coverage: &'a [f64],
    /// Rows per person made whatever the coverage (no duplicates of them),
    /// their `alt` column dated in `alt`'s range: a person's prior
    /// offences. Empty: none.
    pub extra: &'a [u32],
    /// People whose every row has its `alt` column dated in `alt`'s range
    /// (a referral long after release). Empty: nobody.
    pub late: &'a [bool],
    /// The date column and range of the `extra` rows and the `late` people.
    pub alt: Option<AltDates>,
}

/// Another range for one `date_after_release` column ([`Draw::alt`]),
/// never blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltDates {
    /// The column's position in [`DatasetSpec::columns`].
    pub column: usize,
    pub from: i64,
    pub to: i64,
}

/// A row in an extract's order: the person's index, with [`ALT_ROW`] set
/// when the row is dated by [`Draw::alt`].
const ALT_ROW: u32 = 1 << 31;

/// Which of `people` appear in the extract [`write_extract_drawn`] writes for
/// (`spec`, `seed`, `draw`), through its coverage (not only through
/// `extra` rows): the same draws, without writing anything.
pub fn members(people: &[Person], spec: &DatasetSpec, seed: u64, draw: Draw<'_>) -> Vec<bool> {
    let mut stats = ExtractStats::new(&spec.name);
    let (order, _) = select(people, spec, seed, draw, &mut stats);
    let mut out = vec![false; people.len()];
    for row in order {
        if row & ALT_ROW == 0 || draw.late.get(row_person(row)).copied().unwrap_or(false) {
            out[row_person(row)] = true;
        }
    }
    out
}

fn row_person(row: u32) -> usize {
    (row & !ALT_ROW) as usize
}

/// [`write_extract`], with who appears drawn by `draw`.
pub fn write_extract_drawn(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    draw: Draw<'_>,
    csv_out: impl Write,
    truth_out: impl Write,
) -> io::Result<ExtractStats> {
    let mut stats = ExtractStats::new(&spec.name);
    let (mut order, mut rng) = select(people, spec, seed, draw, &mut stats);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }

    let mut csv_out = csv_out;
    if spec.style.encoding == TextEncoding::Utf8Bom {
        csv_out.write_all("\u{feff}".as_bytes())?;
    }
    let mut header = csv_writer(&spec.style, Vec::new());
    let mut encoded = Vec::new();
    for column in &spec.columns {
        header.write_field(encode(&column.header, spec.style.encoding, &mut encoded))?;
    }
    header.write_record(None::<&[u8]>)?;
    csv_out.write_all(&header.into_inner().map_err(|e| e.into_error())?)?;
    let mut truth = io::BufWriter::with_capacity(1 << 16, truth_out);

    // Rows are made in chunks of fixed size, each with its own generator,
    // on as many threads as there are cores, and written in order: the
    // output does not depend on the number of threads.
    let first_id = first_record_number(spec, &mut rng);
    let chunk_seed = rng.next_u64();
    let chunks: Vec<&[u32]> = order.chunks(CHUNK_ROWS).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    for (round, batch) in chunks.chunks(threads).enumerate() {
        let made: Vec<Chunk> = std::thread::scope(|scope| {
            let workers: Vec<_> = batch
                .iter()
                .enumerate()
                .map(|(i, rows)| {
                    let number = round * threads + i;
                    let chunk = ChunkJob {
                        people,
                        spec,
                        rows,
                        alt: draw.alt,
                        seed: chunk_seed ^ mix(number as u64),
                        first_row: (number * CHUNK_ROWS) as u64,
                        first_id,
                    };
                    scope.spawn(move || chunk.make())
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("a chunk worker does not panic"))
                .collect::<io::Result<_>>()
        })?;
        for chunk in made {
            csv_out.write_all(&chunk.csv)?;
            truth.write_all(&chunk.truth)?;
            stats.rows += chunk.stats.rows;
            for c in Corruption::ALL {
                stats.applied[c as usize] += chunk.stats.applied(c);
                stats.opportunities[c as usize] += chunk.stats.opportunities(c);
            }
        }
    }
    stats.duplicates = stats.rows - stats.people;
    csv_out.flush()?;
    truth.flush()?;
    Ok(stats)
}

/// Draws who appears in an extract and how many times (duplicates, and
/// `draw.extra` rows), in people order; returns the row order and the
/// generator, ready for the rest.
fn select(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    draw: Draw<'_>,
    stats: &mut ExtractStats,
) -> (Vec<u32>, Rng) {
    assert!(
        people.len() < ALT_ROW as usize,
        "at most 2^31 - 1 people: a row's top bit marks its dates"
    );
    let mut rng = Rng::new(seed ^ fnv(&spec.name).rotate_left(17));
    let mut order: Vec<u32> =
        Vec::with_capacity((people.len() as f64 * spec.coverage * 1.1) as usize);
    for (i, _) in people.iter().enumerate() {
        let index = u32::try_from(i).expect("at most 2^31 - 1 people");
        let extra = draw.extra.get(i).copied().unwrap_or(0);
        order.extend(std::iter::repeat_n(index | ALT_ROW, extra as usize));
        let coverage = draw.coverage.get(i).copied().unwrap_or(spec.coverage);
        if !rng.chance(coverage) {
            stats.people += u64::from(extra > 0);
            continue;
        }
        let row = if draw.late.get(i).copied().unwrap_or(false) {
            index | ALT_ROW
        } else {
            index
        };
        order.push(row);
        stats.people += 1;
        let mut copies = 0;
        while copies < 4 && stats.roll(&mut rng, Corruption::Duplicate, spec.duplicate_rate) {
            order.push(row);
            copies += 1;
        }
    }
    (order, rng)
}

/// Rows per chunk of [`write_extract`]'s work: a fixed size, so the output
/// does not depend on the number of threads.
const CHUNK_ROWS: usize = 16_384;

/// One chunk of an extract to make.
struct ChunkJob<'a> {
    people: &'a [Person],
    spec: &'a DatasetSpec,
    rows: &'a [u32],
    alt: Option<AltDates>,
    seed: u64,
    /// Position of the chunk's first row in the file.
    first_row: u64,
    first_id: u64,
}

/// A chunk made: CSV rows, truth rows and counts.
struct Chunk {
    csv: Vec<u8>,
    truth: Vec<u8>,
    stats: ExtractStats,
}

impl ChunkJob<'_> {
    fn make(self) -> io::Result<Chunk> {
        let spec = self.spec;
        let mut rng = Rng::new(self.seed);
        let mut stats = ExtractStats::new(&spec.name);
        let mut csv = csv_writer(&spec.style, Vec::with_capacity(self.rows.len() * 128));
        let mut truth = String::with_capacity(self.rows.len() * (spec.name.len() + 24));
        let mut row = RowMaker::new(spec);
        let mut encoded = Vec::new();
        let mut record_id = String::new();
        let bench = spec.has_bench_columns();
        for (k, &index) in self.rows.iter().enumerate() {
            touch_ahead(self.people, self.rows, k);
            let person = &self.people[row_person(index)];
            let alt = self.alt.filter(|_| index & ALT_ROW != 0);
            // Record numbers rise down the file with gaps: row k gets
            // first_id + 2k or + 2k + 1.
            let number = self.first_id + 2 * (self.first_row + k as u64) + rng.below(2);
            let applied_before = stats.applied;
            row.make(
                person,
                row_person(index),
                alt,
                number,
                &mut rng,
                &mut stats,
                &mut record_id,
            );
            if bench {
                row.bench_fields(self.first_row + k as u64 + 1, &applied_before, &stats);
            }
            for field in &row.fields {
                csv.write_field(encode(field, spec.style.encoding, &mut encoded))?;
            }
            csv.write_record(None::<&[u8]>)?;
            truth.push_str(&spec.name);
            truth.push(',');
            truth.push_str(&record_id);
            truth.push_str(",P");
            push_num(&mut truth, u64::from(person.id.0), 7);
            truth.push('\n');
            stats.rows += 1;
        }
        Ok(Chunk {
            csv: csv.into_inner().map_err(|e| e.into_error())?,
            truth: truth.into_bytes(),
            stats,
        })
    }
}

/// Reads a few fields of the people of the rows ahead, so that their cache
/// misses overlap with each other and with the current row's work instead
/// of stalling one after another (rows visit people in random order): the
/// person 16 rows ahead, and the heap data of the person 8 rows ahead, whose
/// own fields are by then in cache.
fn touch_ahead(people: &[Person], rows: &[u32], k: usize) {
    let mut sum = 0usize;
    if let Some(&i) = rows.get(k + 16) {
        let p = &people[row_person(i)];
        sum += p.given_names.len() + p.family_name.len() + p.postcodes.len();
        sum += usize::from(p.nhs_number.is_some()) + usize::from(p.cro_number.is_some());
        sum += p.release_date.day() as usize;
    }
    if let Some(&i) = rows.get(k + 8) {
        let p = &people[row_person(i)];
        sum += p.given_names.first().map_or(0, |n| n.len());
        sum += p
            .family_name
            .as_bytes()
            .first()
            .map_or(0, |&b| usize::from(b));
        sum += p.postcodes.first().map_or(0, |c| usize::from(c.outward));
    }
    std::hint::black_box(sum);
}

/// A CSV writer in the extract's style.
fn csv_writer<W: Write>(style: &Style, out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(style.delimiter)
        .quote_style(if style.quote_all {
            csv::QuoteStyle::Always
        } else {
            csv::QuoteStyle::Necessary
        })
        .terminator(if style.crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(out)
}

/// The first record number: a leading 1 and a random start, leaving room
/// for about 4·10^(digits-2) rows before the number grows a digit.
fn first_record_number(spec: &DatasetSpec, rng: &mut Rng) -> u64 {
    let digits = spec
        .columns
        .iter()
        .find_map(|c| match c.content {
            Content::RecordId { digits, .. } => Some(digits),
            _ => None,
        })
        .unwrap_or(7)
        .clamp(3, 18);
    let scale = 10u64.pow(digits as u32 - 2);
    10 * scale + rng.below(scale)
}

/// The bytes of `text` in the extract's encoding.
fn encode<'a>(text: &'a str, encoding: TextEncoding, buffer: &'a mut Vec<u8>) -> &'a [u8] {
    if encoding != TextEncoding::Windows1252 || text.is_ascii() {
        return text.as_bytes();
    }
    buffer.clear();
    for c in text.chars() {
        windows_1252(c, buffer);
    }
    buffer
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub(super) fn push_num(out: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut at = buf.len();
    let mut n = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = at.min(buf.len() - width.min(buf.len()));
    out.extend(buf[start..].iter().map(|&d| char::from(d)));
}

/// Appends `c` in Windows-1252, writing letters it lacks without their marks.
fn windows_1252(c: char, out: &mut Vec<u8>) {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8A),
        ('‹', 0x8B),
        ('Œ', 0x8C),
        ('Ž', 0x8E),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9A),
        ('›', 0x9B),
        ('œ', 0x9C),
        ('ž', 0x9E),
        ('Ÿ', 0x9F),
    ];
    const PLAIN: [(char, char); 24] = [
        ('ł', 'l'),
        ('Ł', 'L'),
        ('ś', 's'),
        ('Ś', 'S'),
        ('ń', 'n'),
        ('ż', 'z'),
        ('ź', 'z'),
        ('Ż', 'Z'),
        ('ć', 'c'),
        ('ę', 'e'),
        ('ą', 'a'),
        ('ș', 's'),
        ('Ș', 'S'),
        ('ț', 't'),
        ('Ț', 'T'),
        ('ă', 'a'),
        ('ı', 'i'),
        ('ğ', 'g'),
        ('ş', 's'),
        ('ŷ', 'y'),
        ('Ŷ', 'Y'),
        ('ő', 'o'),
        ('ű', 'u'),
        ('č', 'c'),
    ];
    let code = u32::from(c);
    if code < 0x80 || (0xA0..=0xFF).contains(&code) {
        out.push(code as u8);
    } else if let Some(&(_, b)) = HIGH.iter().find(|(h, _)| *h == c) {
        out.push(b);
    } else if let Some(&(_, plain)) = PLAIN.iter().find(|(p, _)| *p == c) {
        out.push(plain as u8);
    } else {
        out.push(b'?');
    }
}
