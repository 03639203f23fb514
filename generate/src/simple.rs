//! A simple extract for tests and benchmarks that need plausible identifiers
//! in volume but not a linkage problem: the population's people
//! ([`population::people`]), one row each, no corruption, in one fixed
//! layout (a probation caseload, [`PROBATION_HEADER`]) that
//! [`PROBATION_CONFIG`] maps.
//!
//! The names, postcodes and national numbers are the population's; the
//! layout and the shares of optional fields are fixed here, so that the
//! tokenise and upload benchmarks measure the same shape of file from run to
//! run: middle names on about 40% of rows, a PNC ID on about 78%, an NHS
//! number on about 56%.

use std::io::Write;

use pprl_specs::normalise::Sex;

use crate::population::{self, Person};
use crate::rng::Rng;

/// Column header of [`write_probation_csv`].
pub const PROBATION_HEADER: &[&str] = &[
    "CRN",
    "Forenames",
    "Surname",
    "DOB",
    "Gender",
    "Postcode",
    "PNC",
    "NHS",
    "Release Date",
    "Area",
];

/// Writes `rows` rows of a probation-caseload-shaped extract of the first
/// `rows` people of the population of `seed`; the same arguments give the
/// same bytes.
pub fn write_probation_csv(out: &mut impl Write, rows: u64, seed: u64) -> std::io::Result<()> {
    let people = population::people(seed, usize::try_from(rows).expect("rows fit in memory"));
    // Which optional fields a row shows: drawn apart from the people, so
    // that the people stay those of `population::people(seed, _)`.
    let mut rng = Rng::new(seed ^ 0x5052_4f42);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(PROBATION_HEADER)?;
    for (i, p) in people.iter().enumerate() {
        let forenames = match p.given_names.get(1) {
            Some(middle) if rng.chance(0.6) => format!("{} {middle}", p.given_names[0]),
            _ => p.given_names[0].to_owned(),
        };
        let pnc = p
            .pnc_id
            .filter(|_| rng.chance(0.8))
            .map(|n| n.to_string())
            .unwrap_or_default();
        let nhs = p
            .nhs_number
            .filter(|_| rng.chance(0.6))
            .map(|n| spaced_nhs(&n.to_string()))
            .unwrap_or_default();
        w.write_record([
            format!("X{:07}", i + 1).as_str(),
            &forenames,
            &p.family_name,
            &day_month_year(p.date_of_birth),
            sex_letter(p),
            &p.postcode().to_string(),
            &pnc,
            &nhs,
            &day_month_year(p.release_date),
            p.postcode().region(),
        ])?;
    }
    w.flush()
}

/// `9434765919` → `943 476 5919`.
fn spaced_nhs(digits: &str) -> String {
    format!("{} {} {}", &digits[0..3], &digits[3..6], &digits[6..])
}

fn day_month_year(date: chrono::NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

fn sex_letter(p: &Person) -> &'static str {
    if p.sex == Sex::Female { "F" } else { "M" }
}

/// The partner config matching [`write_probation_csv`].
pub const PROBATION_CONFIG: &str = r#"dataset = "probation_caseload"

[identifiers]
record_id = "CRN"
given_names = "Forenames"
family_name = "Surname"
date_of_birth = "DOB"
sex = "Gender"
postcode = "Postcode"
pnc_id = "PNC"
nhs_number = "NHS"

[[attributes]]
name = "release_date"
column = "Release Date"
type = "date"
precision = "month"

[[attributes]]
name = "area"
column = "Area"
type = "string"
"#;

#[cfg(test)]
mod tests {
    use pprl_specs::normalise::{Field, nhs_number, pnc_id, postcode};

    use super::*;

    fn extract(rows: u64, seed: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_probation_csv(&mut out, rows, seed).expect("writes to memory");
        out
    }

    #[test]
    fn same_seed_same_file() {
        let a = extract(50, 7);
        assert_eq!(a, extract(50, 7));
        assert_ne!(a, extract(50, 8));
    }

    #[test]
    fn every_value_is_valid_and_optional_fields_have_their_shares() {
        let text = extract(2000, 3);
        let mut reader = csv::Reader::from_reader(text.as_slice());
        assert_eq!(
            reader
                .headers()
                .expect("a header")
                .iter()
                .collect::<Vec<_>>(),
            PROBATION_HEADER
        );
        let (mut rows, mut middles, mut pnc, mut nhs) = (0, 0, 0, 0);
        for record in reader.records() {
            let record = record.expect("a row");
            rows += 1;
            middles += usize::from(record[1].contains(' '));
            assert!(matches!(postcode(&record[5]), Field::Present(_)));
            if !record[6].is_empty() {
                pnc += 1;
                assert!(matches!(pnc_id(&record[6]), Field::Present(_)));
            }
            if !record[7].is_empty() {
                nhs += 1;
                assert!(matches!(nhs_number(&record[7]), Field::Present(_)));
            }
        }
        assert_eq!(rows, 2000);
        let share = |n: usize| n as f64 / rows as f64;
        assert!((0.33..0.47).contains(&share(middles)), "{middles}");
        assert!((0.72..0.84).contains(&share(pnc)), "{pnc}");
        assert!((0.50..0.62).contains(&share(nhs)), "{nhs}");
    }

    #[test]
    fn the_client_reads_it_with_the_config() {
        let config = pprl_client::config::PartnerConfig::parse(PROBATION_CONFIG).expect("valid");
        let header: Vec<String> = PROBATION_HEADER.iter().map(|h| (*h).to_owned()).collect();
        pprl_client::config::Settings::resolve(&config, &header).expect("every column resolves");
    }
}
