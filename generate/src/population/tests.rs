//! The population's tests: determinism, validity of every identifier, the
//! profiles' rates against the data, and the real client reading every extract.

use std::collections::{HashMap, HashSet};
use std::io;

use chrono::{Datelike, NaiveDate};
use pprl_specs::normalise::{self, Field, nickname_root};
use pprl_specs::normalise::{DateOrder, Sex};
use pprl_specs::record::IdentifierKind;

use crate::rng::Rng;

use super::corrupt::{date_typo, typo};
use super::dataset::{
    BENCH_CORRUPTIONS_ATTRIBUTE, BENCH_CORRUPTIONS_HEADER, BENCH_ROW_ATTRIBUTE, BENCH_ROW_HEADER,
    Content, DatasetSpec, NationalId, TextEncoding,
};
use super::extract::{ExtractStats, write_extract};
use super::partner::partner_config;
use super::people::{BIRTH_YEARS, Person, Relation, people, random_day_of, ymd};
use super::profile::{Corruption, Profile, RATE_TABLE};
use super::standard::standard_datasets;
use super::tables::tables;

/// One extract and its truth, as text.
struct Written {
    spec: DatasetSpec,
    stats: ExtractStats,
    csv: Vec<u8>,
    truth: Vec<u8>,
}

fn write(people: &[Person], spec: &DatasetSpec, seed: u64) -> Written {
    let (mut csv, mut truth) = (Vec::new(), Vec::new());
    let stats = write_extract(people, spec, seed, &mut csv, &mut truth).expect("writes to memory");
    Written {
        spec: spec.clone(),
        stats,
        csv,
        truth,
    }
}

/// The header and rows of an extract, decoded as the client would.
fn read(w: &Written) -> (Vec<String>, Vec<Vec<String>>) {
    let text = match w.spec.style.encoding {
        TextEncoding::Windows1252 => encoding_rs::WINDOWS_1252.decode(&w.csv).0.into_owned(),
        _ => String::from_utf8(w.csv.clone()).expect("utf-8"),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(w.spec.style.delimiter)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.expect("a well-formed row")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    (header, rows)
}

fn truth_rows(w: &Written) -> Vec<(String, String, String)> {
    String::from_utf8(w.truth.clone())
        .expect("utf-8")
        .lines()
        .map(|line| {
            let mut parts = line.split(',');
            let row = (
                parts.next().expect("dataset").to_owned(),
                parts.next().expect("record id").to_owned(),
                parts.next().expect("person id").to_owned(),
            );
            assert!(parts.next().is_none(), "three columns: {line}");
            row
        })
        .collect()
}

fn person_index(id: &str) -> usize {
    id.strip_prefix('P')
        .and_then(|n| n.parse::<usize>().ok())
        .expect("person ids are P and a number")
        - 1
}

fn as_of() -> NaiveDate {
    ymd(2026, 1, 1)
}

#[test]
fn profiles_parse_and_print() {
    for profile in Profile::ALL {
        assert_eq!(profile.to_string().parse::<Profile>(), Ok(profile));
    }
    assert_eq!(" Heavy ".parse::<Profile>(), Ok(Profile::Heavy));
    let err = "messy".parse::<Profile>().unwrap_err().to_string();
    assert!(err.contains("messy") && err.contains("typical"), "{err}");
}

#[test]
fn rate_table_has_every_corruption_and_heavy_is_three_times_typical() {
    for (i, (corruption, typical, heavy, _)) in RATE_TABLE.iter().enumerate() {
        assert_eq!(*corruption as usize, i, "table order is enum order");
        assert_eq!(Corruption::ALL[i], *corruption);
        assert!(*typical > 0.0 && *typical <= 0.1, "{corruption:?}");
        assert!((heavy / typical - 3.0).abs() < 1e-9, "{corruption:?}");
        assert_eq!(Profile::Clean.rates().get(*corruption), 0.0);
    }
}

#[test]
fn tables_are_wide_and_every_name_is_a_valid_name() {
    let t = tables();
    assert!(t.male.items.len() >= 300, "{}", t.male.items.len());
    assert!(t.female.items.len() >= 300, "{}", t.female.items.len());
    assert!(t.family.items.len() >= 500, "{}", t.family.items.len());
    assert!(t.rare_family.len() >= 1_000, "{}", t.rare_family.len());
    assert!(t.outward.len() >= 1_500, "{}", t.outward.len());
    for name in t.male.items.iter().chain(&t.female.items) {
        assert!(
            matches!(normalise::given_names(name), Field::Present(_)),
            "{name}"
        );
    }
    for name in t
        .family
        .items
        .iter()
        .map(|n| n.replace('_', " "))
        .chain(t.rare_family.iter().cloned())
    {
        assert!(
            matches!(normalise::family_name(&name), Field::Present(_)),
            "{name}"
        );
    }
    for outward in &t.outward {
        let code = format!("{} 1AB", outward.code);
        assert!(
            matches!(normalise::postcode(&code), Field::Present(_)),
            "{code}"
        );
    }
    // 20 first letters, 19 second letters, less 7 pairs never allocated.
    assert_eq!(t.ni_prefixes.len(), 20 * 19 - 7);
}

#[test]
fn nicknames_follow_the_spec_table_and_add_some_it_lacks() {
    let t = tables();
    let bill = t.nicknames_of("William");
    assert!(bill.iter().any(|n| n == "Bill") && bill.iter().any(|n| n == "Liam"));
    let mut recoverable = 0;
    let mut not = 0;
    for (name, nicks) in &t.nicknames {
        let root = name.to_uppercase();
        for nick in nicks {
            if nickname_root(&nick.to_uppercase()) == root {
                recoverable += 1;
            } else {
                not += 1;
            }
        }
    }
    assert!(recoverable > 60 && not > 20, "{recoverable} {not}");
}

#[test]
fn numbers_are_valid_unique_and_canonical() {
    let people = people(11, 20_000);
    let mut seen: [HashSet<String>; 5] = Default::default();
    for p in &people {
        type Check = fn(&str) -> Field<String>;
        let checks: [(NationalId, Check); 5] = [
            (NationalId::Nhs, normalise::nhs_number),
            (NationalId::Ni, normalise::ni_number),
            (NationalId::Pnc, normalise::pnc_id),
            (NationalId::Cro, normalise::cro_number),
            (NationalId::Prison, normalise::prison_number),
        ];
        for (i, (id, check)) in checks.into_iter().enumerate() {
            let Some(canonical) = p.national(id) else {
                continue;
            };
            match check(&canonical) {
                Field::Present(c) => assert_eq!(c, canonical, "{id:?}"),
                other => panic!("{id:?} {canonical}: {other:?}"),
            }
            assert!(seen[i].insert(canonical), "{id:?} repeated");
        }
        if let Some(ni) = p.ni_number {
            assert!(matches!(
                normalise::ni_number(&ni.full()),
                Field::Present(_)
            ));
        }
        for postcode in &p.postcodes {
            match normalise::postcode(&postcode.to_string()) {
                Field::Present(c) => assert_eq!(c.full(), postcode.to_string()),
                other => panic!("{postcode}: {other:?}"),
            }
        }
    }
    for (i, set) in seen.iter().enumerate() {
        assert!(
            set.len() > 12_000,
            "{:?}: {}",
            NationalId::ALL[i],
            set.len()
        );
    }
}

#[test]
fn people_look_like_prison_leavers() {
    let people = people(5, 20_000);
    let men = people.iter().filter(|p| p.sex == Sex::Male).count() as f64 / 20_000.0;
    assert!((0.83..0.87).contains(&men), "{men}");
    let mut ages: Vec<i32> = people
        .iter()
        .map(|p| p.release_date.year() - p.date_of_birth.year())
        .collect();
    ages.sort_unstable();
    let median = ages[ages.len() / 2];
    assert!((28..=38).contains(&median), "{median}");
    assert!(
        people
            .iter()
            .all(|p| (BIRTH_YEARS.0..=BIRTH_YEARS.1).contains(&p.date_of_birth.year()))
    );
    assert!(people.iter().all(|p| p.postcodes.len() >= 2));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in people.iter().filter(|p| p.sex == Sex::Male) {
        *counts.entry(p.given_names[0]).or_default() += 1;
    }
    let mut sorted: Vec<usize> = counts.values().copied().collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert!(
        sorted[0] > 10 * sorted[sorted.len() / 2],
        "{:?}",
        &sorted[..5]
    );
    let mut relations = [0; 3];
    for p in &people {
        let (kind, other) = match p.relation {
            None => continue,
            Some(Relation::Sibling(o)) => (0, o),
            Some(Relation::Twin(o)) => (1, o),
            Some(Relation::Son(o)) => (2, o),
        };
        relations[kind] += 1;
        let other = &people[other.0 as usize - 1];
        assert_eq!(p.family_name, other.family_name);
        assert_eq!(p.postcode(), other.postcode());
        if kind == 1 {
            assert_eq!(p.date_of_birth, other.date_of_birth);
            assert_ne!(p.given_names[0], other.given_names[0]);
        }
    }
    assert!(relations.iter().all(|&n| n > 5), "{relations:?}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let population = people(3, 1_500);
    for spec in standard_datasets(Profile::Typical) {
        let a = write(&population, &spec, 9);
        let b = write(&population, &spec, 9);
        assert_eq!(a.csv, b.csv, "{}", spec.name);
        assert_eq!(a.truth, b.truth, "{}", spec.name);
        let c = write(&population, &spec, 10);
        assert_ne!(a.csv, c.csv, "{}", spec.name);
    }
    let other = people(4, 1_500);
    assert_ne!(
        population
            .iter()
            .map(|p| &p.family_name)
            .collect::<Vec<_>>(),
        other.iter().map(|p| &p.family_name).collect::<Vec<_>>()
    );
}

/// The benchmark columns add the row's position and its corruptions and
/// change nothing else; the partner config declares them as strings.
#[test]
fn bench_columns_are_opt_in_and_change_nothing_else() {
    let population = people(5, 1_500);
    for spec in standard_datasets(Profile::Heavy) {
        let plain = write(&population, &spec, 4);
        let bench_spec = spec.clone().with_bench_columns();
        assert!(!partner_config(&spec).contains(BENCH_ROW_ATTRIBUTE));
        let config = partner_config(&bench_spec);
        for name in [BENCH_ROW_ATTRIBUTE, BENCH_CORRUPTIONS_ATTRIBUTE] {
            assert!(config.contains(&format!("name = \"{name}\"")), "{config}");
        }
        let bench = write(&population, &bench_spec, 4);
        assert_eq!(plain.truth, bench.truth, "{}", spec.name);
        let ((h1, r1), (h2, r2)) = (read(&plain), read(&bench));
        assert_eq!(h2[..h1.len()], h1[..]);
        assert_eq!(h2[h1.len()..], [BENCH_ROW_HEADER, BENCH_CORRUPTIONS_HEADER]);
        let mut corrupted = 0;
        for (line, (a, b)) in r1.iter().zip(&r2).enumerate() {
            assert_eq!(b[..a.len()], a[..]);
            assert_eq!(b[a.len()], (line + 1).to_string());
            corrupted += usize::from(!b[a.len() + 1].is_empty());
        }
        assert!(corrupted > r1.len() / 10, "{}: {corrupted}", spec.name);
        assert!(r2.iter().any(|r| r[h1.len() + 1].contains("moved_house")));
    }
}

#[test]
fn truth_has_one_row_per_extract_row_and_nothing_identifying() {
    let population = people(8, 3_000);
    for spec in standard_datasets(Profile::Heavy) {
        let w = write(&population, &spec, 1);
        let (header, rows) = read(&w);
        let truth = truth_rows(&w);
        assert_eq!(rows.len(), truth.len(), "{}", spec.name);
        assert_eq!(rows.len() as u64, w.stats.rows);
        assert!(w.stats.duplicates > 0, "{}", spec.name);
        let id_column = spec
            .columns
            .iter()
            .position(|c| matches!(c.content, Content::RecordId { .. }))
            .expect("a record id column");
        assert_eq!(header.len(), spec.columns.len());
        let mut ids = HashSet::new();
        let mut people_seen = HashSet::new();
        for (row, (dataset, record_id, person)) in rows.iter().zip(&truth) {
            assert_eq!(dataset, &spec.name);
            assert_eq!(&row[id_column], record_id);
            assert!(ids.insert(record_id.clone()), "record ids are unique");
            people_seen.insert(person.clone());
            let p = &population[person_index(person)];
            for value in [
                p.family_name.clone(),
                p.given_names_text(),
                p.date_of_birth.to_string(),
                p.postcode().to_string(),
            ] {
                assert!(!record_id.contains(&value) && !person.contains(&value));
            }
        }
        assert_eq!(people_seen.len() as u64, w.stats.people);
    }
}

/// Every field of a clean extract normalises to the person's truth.
#[test]
fn clean_extracts_vary_format_but_not_content() {
    let population = people(21, 3_000);
    for spec in standard_datasets(Profile::Clean) {
        let w = write(&population, &spec, 2);
        let (_, rows) = read(&w);
        let truth = truth_rows(&w);
        let order = spec.style.date_format.date_order();
        let mut distinct_forms = HashSet::new();
        for (row, (_, _, person)) in rows.iter().zip(&truth) {
            let p = &population[person_index(person)];
            for (column, text) in spec.columns.iter().zip(row) {
                let name = &spec.name;
                match &column.content {
                    Content::GivenNames => {
                        let names = if spec.middle_names {
                            p.given_names_text()
                        } else {
                            p.given_names[0].to_owned()
                        };
                        let want = normalise::given_names(&names)
                            .into_present()
                            .expect("valid");
                        let got = normalise::given_names(text).into_present();
                        assert_eq!(
                            got.as_ref().map(|g| g.all()),
                            Some(want.all()),
                            "{name}: {text}"
                        );
                    }
                    Content::FamilyName => {
                        let want = normalise::family_name(&p.family_name).into_present();
                        assert_eq!(
                            normalise::family_name(text).into_present(),
                            want,
                            "{name}: {text}"
                        );
                        distinct_forms.insert(text.clone());
                    }
                    Content::DateOfBirth => {
                        let got = normalise::date_of_birth(text, order, as_of()).into_present();
                        assert_eq!(got, Some(p.date_of_birth), "{name}: {text}");
                    }
                    Content::Sex => {
                        assert_eq!(
                            normalise::sex(text).into_present(),
                            Some(p.sex),
                            "{name}: {text}"
                        );
                    }
                    Content::Postcode => {
                        let got = normalise::postcode(text).into_present().map(|c| c.full());
                        assert_eq!(got, Some(p.postcode().to_string()), "{name}: {text}");
                    }
                    Content::National { id, .. } if !text.is_empty() => {
                        let check = match id {
                            NationalId::Nhs => normalise::nhs_number,
                            NationalId::Ni => normalise::ni_number,
                            NationalId::Pnc => normalise::pnc_id,
                            NationalId::Cro => normalise::cro_number,
                            NationalId::Prison => normalise::prison_number,
                        };
                        assert_eq!(
                            check(text).into_present(),
                            p.national(*id),
                            "{name}: {text}"
                        );
                    }
                    _ => {}
                }
            }
        }
        assert!(distinct_forms.len() > 100, "{}", spec.name);
        for corruption in Corruption::ALL {
            assert_eq!(w.stats.applied(corruption), 0, "{corruption:?}");
        }
    }
}

#[test]
fn typical_rates_are_respected() {
    let population = people(31, 12_000);
    let rates = Profile::Typical.rates();
    let mut totals = [(0u64, 0u64); Corruption::COUNT];
    for spec in standard_datasets(Profile::Typical) {
        let w = write(&population, &spec, 4);
        for c in Corruption::ALL {
            totals[c as usize].0 += w.stats.applied(c);
            totals[c as usize].1 += w.stats.opportunities(c);
        }
    }
    for c in Corruption::ALL {
        let (applied, chances) = totals[c as usize];
        let rate = if c == Corruption::Duplicate {
            // The police extract has three times the duplicates.
            applied as f64 / chances as f64
        } else {
            rates.get(c)
        };
        assert!(chances > 1_000, "{c:?}: {chances}");
        let observed = applied as f64 / chances as f64;
        let tolerance = 4.0 * (rate * (1.0 - rate) / chances as f64).sqrt() + 0.001;
        assert!(
            (observed - rate).abs() < tolerance,
            "{c:?}: {observed} vs {rate}"
        );
    }
}

/// Counts what the extract shows against the truth, independently of the
/// generator's own counters.
#[test]
fn typical_corruption_is_visible_in_the_data() {
    let population = people(41, 8_000);
    let spec = standard_datasets(Profile::Typical)
        .into_iter()
        .find(|s| s.name == "probation_caseload")
        .expect("standard");
    let w = write(&population, &spec, 6);
    let (header, rows) = read(&w);
    let truth = truth_rows(&w);
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let (given, family, dob, postcode) = (
        col("Forenames"),
        col("Surname"),
        col("DOB"),
        col("Postcode"),
    );
    let mut swapped = 0;
    let mut family_differs = 0;
    let mut dob_transposed = 0;
    let mut moved = 0;
    let mut nickname_recoverable = 0;
    let mut nickname_other = 0;
    for (row, (_, _, person)) in rows.iter().zip(&truth) {
        let p = &population[person_index(person)];
        let true_family = normalise::family_name(&p.family_name).into_present();
        let recorded_family = normalise::family_name(&row[family]).into_present();
        let first = |text: &str| {
            normalise::given_names(text)
                .into_present()
                .map(|g| g.first().to_owned())
        };
        let true_first = first(p.given_names[0]).expect("valid");
        if first(&row[family]).as_deref() == Some(true_first.as_str())
            && normalise::family_name(&row[given]).into_present() == true_family
        {
            swapped += 1;
        }
        if recorded_family != true_family {
            family_differs += 1;
        }
        if let Some(recorded) = first(&row[given])
            && recorded != true_first
            && t_has_nickname(p.given_names[0], &recorded)
        {
            if nickname_root(&recorded) == nickname_root(&true_first) {
                nickname_recoverable += 1;
            } else {
                nickname_other += 1;
            }
        }
        let d = p.date_of_birth;
        if d.day() <= 12
            && d.day() != d.month()
            && normalise::date_of_birth(&row[dob], DateOrder::DayFirst, as_of()).into_present()
                == Some(ymd(d.year(), d.day(), d.month()))
        {
            dob_transposed += 1;
        }
        let recorded_postcode = normalise::postcode(&row[postcode])
            .into_present()
            .map(|c| c.full());
        if p.postcodes[..p.postcodes.len() - 1]
            .iter()
            .any(|old| Some(old.to_string()) == recorded_postcode)
        {
            moved += 1;
        }
    }
    let n = rows.len() as f64;
    let share = |count: i32| f64::from(count) / n;
    assert!(
        (0.005..0.02).contains(&share(swapped)),
        "swapped {}",
        share(swapped)
    );
    assert!(
        (0.03..0.12).contains(&share(family_differs)),
        "family {}",
        share(family_differs)
    );
    assert!(
        (0.001..0.01).contains(&share(dob_transposed)),
        "dob {}",
        share(dob_transposed)
    );
    assert!(
        (0.05..0.11).contains(&share(moved)),
        "moved {}",
        share(moved)
    );
    assert!(
        nickname_recoverable > 20 && nickname_other > 5,
        "{nickname_recoverable} {nickname_other}"
    );
}

fn t_has_nickname(formal: &str, recorded: &str) -> bool {
    tables()
        .nicknames_of(formal)
        .iter()
        .any(|n| n.eq_ignore_ascii_case(recorded))
}

#[test]
fn typos_change_the_canonical_name_and_keep_it_a_name() {
    let mut rng = Rng::new(5);
    let t = tables();
    let mut placeholders = 0;
    for _ in 0..5_000 {
        let name = t.family.sample(&mut rng).replace('_', " ");
        let typed = typo(&name, &mut rng);
        let before = normalise::family_name(&name);
        let after = normalise::family_name(&typed);
        // A typo can make a placeholder word (`Bull` → `Null`), rarely.
        if after == Field::Placeholder {
            placeholders += 1;
            continue;
        }
        assert!(matches!(after, Field::Present(_)), "{name} → {typed}");
        assert_ne!(before, after, "{name} → {typed}");
    }
    assert!(placeholders < 5, "{placeholders}");
    for _ in 0..2_000 {
        let date = random_day_of(1950 + rng.below(57) as i32, &mut rng);
        let typed = date_typo(date, &mut rng);
        assert_ne!(typed, date);
    }
}

#[test]
fn partner_config_maps_every_column_and_escapes() {
    let mut spec = standard_datasets(Profile::Typical).remove(2);
    spec.columns[1].header = "SUR\"NAME".to_owned();
    spec.style.delimiter = b'\t';
    let text = partner_config(&spec);
    let config = pprl_client::config::PartnerConfig::parse(&text).expect("valid toml");
    assert_eq!(config.dataset, spec.name);
    assert_eq!(config.input.delimiter, "\t");
    assert_eq!(
        config
            .identifiers
            .get(&IdentifierKind::FamilyName)
            .map(String::as_str),
        Some("SUR\"NAME")
    );
    let header: Vec<String> = spec.columns.iter().map(|c| c.header.clone()).collect();
    let settings = pprl_client::config::Settings::resolve(&config, &header).expect("resolves");
    assert_eq!(settings.attributes.len(), 3);
}

/// The real client reads every standard extract: clean ones with no
/// rejected row and no invalid or placeholder field, messier ones with
/// few rejects.
#[test]
fn the_client_reads_every_extract() {
    use pprl_client::{config::PartnerConfig, tokenise};
    use pprl_keyed::key::ProjectKey;

    let dir = tempfile::tempdir().expect("a temporary folder");
    let population = people(13, 1_500);
    let key = ProjectKey::from_bytes([0x42; 32]);
    for profile in Profile::ALL {
        for spec in standard_datasets(profile) {
            let input = dir.path().join(format!("{}-{profile}.csv", spec.name));
            let output = dir.path().join(format!("{}-{profile}.parquet", spec.name));
            let file = io::BufWriter::new(std::fs::File::create(&input).expect("create"));
            let stats = write_extract(&population, &spec, 3, file, io::sink()).expect("writes");
            let config = PartnerConfig::parse(&partner_config(&spec)).expect("valid config");
            let summary = tokenise::run(&tokenise::Job {
                key: &key,
                config: &config,
                input: &input,
                output: &output,
                rejects: None,
                max_reject_fraction: Some(1.0),
                now: chrono::Utc::now(),
                progress: None,
            })
            .unwrap_or_else(|e| panic!("{} {profile}: {e:#}", spec.name));
            let q = &summary.manifest.quality;
            let label = format!("{} {profile}", spec.name);
            assert_eq!(q.rows_read, stats.rows, "{label}");
            assert_eq!(q.duplicate_record_ids, 0, "{label}");
            let rejected = q.rows_rejected as f64 / q.rows_read as f64;
            for (kind, counts) in &q.identifiers {
                let read =
                    (counts.present + counts.missing + counts.invalid + counts.placeholder) as f64;
                let invalid = counts.invalid as f64 / read;
                match profile {
                    Profile::Clean => {
                        assert_eq!(counts.invalid, 0, "{label} {kind}");
                        assert_eq!(counts.placeholder, 0, "{label} {kind}");
                    }
                    Profile::Typical => assert!(invalid < 0.03, "{label} {kind}: {invalid}"),
                    Profile::Heavy => assert!(invalid < 0.08, "{label} {kind}: {invalid}"),
                }
            }
            match profile {
                Profile::Clean => assert_eq!(q.rows_rejected, 0, "{label}"),
                Profile::Typical => assert!(rejected < 0.005, "{label}: {rejected}"),
                Profile::Heavy => assert!(rejected < 0.02, "{label}: {rejected}"),
            }
        }
    }
}
