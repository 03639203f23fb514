//! A small seeded generator of synthetic partner extracts.
//!
//! Deterministic for a seed (SplitMix64, so the output never changes with a
//! dependency's version). Values look like real UK identifiers — valid NHS
//! numbers, postcodes of the right shape — but belong to nobody. Used by the
//! end-to-end tests and the benchmarks; the linkage engine (issue 4) will grow
//! it into a population generator with corruption profiles.

use std::io::Write;

use pprl_specs::normalise::{nhs_check_digit, pnc_check_letter};

/// SplitMix64: a tiny, well-known, seedable generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the tiny modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

pub const GIVEN_MALE: &[&str] = &[
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Jacob",
    "Noah",
    "Charlie",
    "Muhammad",
    "Thomas",
    "Oscar",
    "William",
    "James",
    "Henry",
    "Leo",
    "Alfie",
    "Joshua",
    "Freddie",
    "Archie",
    "Ethan",
    "Isaac",
    "Alexander",
    "Joseph",
    "Edward",
    "Samuel",
    "Max",
    "Daniel",
    "Arthur",
    "Lucas",
    "Mohammed",
    "Logan",
    "David",
    "John",
    "Michael",
    "Paul",
    "Mark",
    "Andrew",
    "Stephen",
    "Robert",
    "Richard",
    "Christopher",
    "Anthony",
    "Peter",
    "Kevin",
    "Gary",
    "Darren",
    "Lee",
    "Craig",
    "Dean",
    "Ryan",
    "Liam",
    "Connor",
    "Kyle",
    "Jordan",
    "Callum",
    "Declan",
    "Seán",
    "Ciarán",
    "Rhys",
    "Dylan",
    "Owen",
];

pub const GIVEN_FEMALE: &[&str] = &[
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Emily",
    "Sophia",
    "Grace",
    "Mia",
    "Poppy",
    "Ella",
    "Lily",
    "Evie",
    "Isabella",
    "Sophie",
    "Ivy",
    "Freya",
    "Harper",
    "Willow",
    "Charlotte",
    "Jessica",
    "Sarah",
    "Emma",
    "Laura",
    "Rebecca",
    "Claire",
    "Nicola",
    "Michelle",
    "Lisa",
    "Kelly",
    "Donna",
    "Karen",
    "Susan",
    "Elizabeth",
    "Margaret",
    "Catherine",
    "Joanne",
    "Amy",
    "Chloe",
    "Megan",
    "Hannah",
    "Zoë",
    "Siobhán",
    "Aoife",
    "Niamh",
    "Bethan",
    "Ffion",
    "Aisha",
    "Fatima",
    "Priya",
    "Mary-Ann",
];

pub const FAMILY: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "O'Neil",
    "O'Brien",
    "McDonald",
    "MacLeod",
    "Smith-Jones",
    "Khan",
    "Ahmed",
    "Ali",
    "Begum",
    "Hussain",
    "Nowak",
    "Kowalski",
    "Müller",
    "Ødegård",
    "Van der Berg",
    "D'Souza",
    "Fitzgerald",
    "Murphy",
    "Kelly",
    "Byrne",
];

/// Outward codes spread over England and Wales.
pub const OUTWARD: &[&str] = &[
    "SW1A", "SW2", "SE1", "SE15", "E1", "E14", "N1", "N17", "NW10", "W12", "EC1A", "WC2H", "CR0",
    "CR2", "BR1", "HA0", "UB1", "M1", "M14", "M40", "L1", "L8", "B1", "B33", "B12", "LS1", "LS9",
    "S1", "S5", "NE1", "NE4", "DH1", "DL1", "SR1", "TS1", "CH1", "CW1", "WA1", "ST1", "CV1", "WV1",
    "DY1", "NG1", "LE1", "BS1", "CF10", "SA1", "PL1", "EX1", "BN1", "OX1", "CB1", "NR1", "IP1",
    "HU1", "BD1", "PR1",
];

const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A random postcode of the right shape.
pub fn postcode(rng: &mut Rng) -> String {
    let out = rng.pick(OUTWARD);
    let digit = rng.below(10);
    let a = INWARD_LETTERS[rng.below(INWARD_LETTERS.len() as u64) as usize] as char;
    let b = INWARD_LETTERS[rng.below(INWARD_LETTERS.len() as u64) as usize] as char;
    format!("{out} {digit}{a}{b}")
}

/// A random NHS number with a valid check digit, spaced 3-3-4.
pub fn nhs_number(rng: &mut Rng) -> String {
    loop {
        let first9 = format!("{:09}", 400_000_000 + rng.below(300_000_000));
        if let Some(check) = nhs_check_digit(&first9) {
            return format!(
                "{} {} {}{}",
                &first9[0..3],
                &first9[3..6],
                &first9[6..9],
                check
            );
        }
    }
}

/// A random PNC ID with a valid check letter.
pub fn pnc_id(rng: &mut Rng) -> String {
    let year = 90 + rng.below(30) as u32;
    let year2 = year % 100;
    let serial = 1 + rng.below(999_999) as u32;
    format!("{year2:02}/{serial:07}{}", pnc_check_letter(year2, serial))
}

/// A date of birth as DD/MM/YYYY between 1950 and 2005.
pub fn dob(rng: &mut Rng) -> String {
    let year = 1950 + rng.below(56);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    format!("{day:02}/{month:02}/{year}")
}

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

/// Writes `rows` rows of a probation-caseload-shaped extract.
pub fn write_probation_csv(out: &mut impl Write, rows: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(PROBATION_HEADER)?;
    for i in 0..rows {
        let male = rng.chance(0.85);
        let given = if male {
            *rng.pick(GIVEN_MALE)
        } else {
            *rng.pick(GIVEN_FEMALE)
        };
        let middle = if rng.chance(0.4) {
            format!(" {}", rng.pick(GIVEN_MALE))
        } else {
            String::new()
        };
        let crn = format!("X{:07}", i + 1);
        let release = format!("{:02}/{:02}/2025", 1 + rng.below(28), 1 + rng.below(12));
        let pnc = if rng.chance(0.8) {
            pnc_id(&mut rng)
        } else {
            String::new()
        };
        let nhs = if rng.chance(0.6) {
            nhs_number(&mut rng)
        } else {
            String::new()
        };
        w.write_record([
            crn.as_str(),
            &format!("{given}{middle}"),
            *rng.pick(FAMILY),
            &dob(&mut rng),
            if male { "M" } else { "F" },
            &postcode(&mut rng),
            &pnc,
            &nhs,
            &release,
            *rng.pick(&["London", "North East", "North West", "Midlands", "Wales"]),
        ])?;
    }
    w.flush()
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
    use super::*;
    use pprl_specs::normalise::{
        Field, nhs_number as check_nhs, pnc_id as check_pnc, postcode as check_postcode,
    };

    #[test]
    fn generated_numbers_validate() {
        let mut rng = Rng::new(1);
        for _ in 0..500 {
            assert!(matches!(
                check_nhs(&nhs_number(&mut rng)),
                Field::Present(_)
            ));
            assert!(matches!(check_pnc(&pnc_id(&mut rng)), Field::Present(_)));
            assert!(matches!(
                check_postcode(&postcode(&mut rng)),
                Field::Present(_)
            ));
        }
    }

    #[test]
    fn same_seed_same_file() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_probation_csv(&mut a, 50, 7).expect("writes to memory");
        write_probation_csv(&mut b, 50, 7).expect("writes to memory");
        assert_eq!(a, b);
        let mut c = Vec::new();
        write_probation_csv(&mut c, 50, 8).expect("writes to memory");
        assert_ne!(a, c);
    }
}
