//! A seeded synthetic population of prison leavers, and their records in
//! several partners' extracts with realistic corruption.
//!
//! [`people`] makes the people: UK names with skewed frequencies (a few names
//! very common, a long tail of rare ones), dates of birth skewed to young
//! adults, about 85% men, a postcode history each, and national numbers with
//! valid check characters. Some are siblings, twins or father and son sharing a
//! family name, an address and even a date of birth, so that linkage meets
//! hard negatives.
//!
//! [`write_extract`] streams one partner's CSV extract ([`DatasetSpec`]: which
//! people appear, the columns, the export's formats) with the corruption of a
//! [`Profile`], and writes the ground truth (`dataset,record_id,person_id`)
//! to a separate writer. [`partner_config`] gives the `partner.toml` with
//! which `pprl-client tokenise` reads that extract, and [`standard_datasets`]
//! five typical partners. The binary `pprl-generate` writes them all.
//!
//! Everything is deterministic for a seed: the generator is
//! [`crate::synth::Rng`] (SplitMix64) and no floating-point function that
//! could differ between platforms decides anything but comparisons.
//!
//! ```
//! use pprl_generate::population::{self, Profile};
//!
//! let people = population::people(7, 200);
//! let spec = &population::standard_datasets(Profile::Typical)[0];
//! let (mut csv, mut truth) = (Vec::new(), Vec::new());
//! let stats = population::write_extract(&people, spec, 7, &mut csv, &mut truth).unwrap();
//! assert_eq!(stats.rows as usize, truth.iter().filter(|&&b| b == b'\n').count());
//! ```

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::BuildHasherDefault;
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate};
use pprl_specs::normalise::name::NICKNAMES;
use pprl_specs::normalise::national::cro_sf_check_letter;
use pprl_specs::normalise::{DateOrder, Sex, cro_check_letter, nhs_check_digit, pnc_check_letter};
use pprl_specs::record::IdentifierKind;

use crate::synth::Rng;

// ---------------------------------------------------------------------------
// Profiles and corruption rates.

/// How messy the extracts are.
///
/// Every profile varies formatting (case, spacing, date and postcode
/// formats, number grouping) the way real exports do; the profiles differ in
/// how often the content is wrong. See [`Profile::rates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Formatting varies, content never: every field normalises to the truth.
    Clean,
    /// What real administrative extracts look like: a few percent per corruption.
    #[default]
    Typical,
    /// About three times [`Profile::Typical`].
    Heavy,
}

impl Profile {
    /// Every profile, cleanest first.
    pub const ALL: [Profile; 3] = [Profile::Clean, Profile::Typical, Profile::Heavy];

    /// The profile's name: `clean`, `typical` or `heavy`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Clean => "clean",
            Profile::Typical => "typical",
            Profile::Heavy => "heavy",
        }
    }

    /// The corruption rates of this profile (the table at [`RATE_TABLE`]).
    pub fn rates(self) -> Rates {
        let mut rates = [0.0; Corruption::COUNT];
        for (corruption, typical, heavy, _) in RATE_TABLE {
            rates[corruption as usize] = match self {
                Profile::Clean => 0.0,
                Profile::Typical => typical,
                Profile::Heavy => heavy,
            };
        }
        Rates(rates)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile name that is not `clean`, `typical` or `heavy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProfile(pub String);

impl fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown profile `{}`: use clean, typical or heavy",
            self.0
        )
    }
}

impl std::error::Error for UnknownProfile {}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

/// One kind of corruption of a record's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corruption {
    /// A typo in the given names: substitution, insertion, deletion,
    /// adjacent transposition or keyboard neighbour.
    TypoGiven,
    /// A typo in the family name.
    TypoFamily,
    /// One digit of the date of birth wrong (still a real date).
    TypoDob,
    /// One character of the postcode wrong (often no longer a valid postcode).
    TypoPostcode,
    /// One digit of a national number wrong (its check character then fails).
    TypoNumber,
    /// A nickname or variant for the first given name (`William` → `Bill`).
    Nickname,
    /// Given and family names in each other's columns.
    SwappedNames,
    /// Day and month of the date of birth transposed.
    DayMonthSwapped,
    /// An earlier postcode from the person's history instead of the current one.
    MovedHouse,
    /// Middle names left out, or cut to an initial.
    MiddleDropped,
    /// A middle name the person does not have.
    MiddleAdded,
    /// Half of a double-barrelled name, the halves reversed, `Mc`/`Mac`
    /// exchanged, or only the last word of a name such as `Da Silva`.
    FamilyVariant,
    /// The other sex recorded.
    SexMiscoded,
    /// A field left blank.
    Missing,
    /// A field holding a stand-in such as `UNKNOWN`, `01/01/1900` or `NFA`.
    Placeholder,
    /// A national number the partner holds for this person left blank.
    MissingNumber,
    /// The person twice (or more) in one file under different record ids,
    /// each copy corrupted independently.
    Duplicate,
}

impl Corruption {
    /// Number of kinds.
    pub const COUNT: usize = 17;

    /// Every kind, in table order.
    pub const ALL: [Corruption; Corruption::COUNT] = [
        Corruption::TypoGiven,
        Corruption::TypoFamily,
        Corruption::TypoDob,
        Corruption::TypoPostcode,
        Corruption::TypoNumber,
        Corruption::Nickname,
        Corruption::SwappedNames,
        Corruption::DayMonthSwapped,
        Corruption::MovedHouse,
        Corruption::MiddleDropped,
        Corruption::MiddleAdded,
        Corruption::FamilyVariant,
        Corruption::SexMiscoded,
        Corruption::Missing,
        Corruption::Placeholder,
        Corruption::MissingNumber,
        Corruption::Duplicate,
    ];

    /// A short snake-case label, for summaries.
    pub fn label(self) -> &'static str {
        match self {
            Corruption::TypoGiven => "typo_given",
            Corruption::TypoFamily => "typo_family",
            Corruption::TypoDob => "typo_dob",
            Corruption::TypoPostcode => "typo_postcode",
            Corruption::TypoNumber => "typo_number",
            Corruption::Nickname => "nickname",
            Corruption::SwappedNames => "swapped_names",
            Corruption::DayMonthSwapped => "day_month_swapped",
            Corruption::MovedHouse => "moved_house",
            Corruption::MiddleDropped => "middle_dropped",
            Corruption::MiddleAdded => "middle_added",
            Corruption::FamilyVariant => "family_variant",
            Corruption::SexMiscoded => "sex_miscoded",
            Corruption::Missing => "missing",
            Corruption::Placeholder => "placeholder",
            Corruption::MissingNumber => "missing_number",
            Corruption::Duplicate => "duplicate",
        }
    }
}

/// The corruption rates of [`Profile::Typical`] and [`Profile::Heavy`]
/// (about 3×); [`Profile::Clean`] has every rate 0. Each rate is a
/// probability per opportunity, as the last column says.
///
/// | corruption | typical | heavy | per |
/// |---|---|---|---|
/// | typo in given names | 2% | 6% | record |
/// | typo in family name | 2% | 6% | record |
/// | typo in date of birth | 0.5% | 1.5% | record |
/// | typo in postcode | 1% | 3% | record with a postcode |
/// | typo in a national number | 0.5% | 1.5% | number written |
/// | nickname or variant | 5% | 15% | record whose first name has one |
/// | given/family swapped | 1% | 3% | record |
/// | day/month transposed | 1% | 3% | record with day ≤ 12 and day ≠ month |
/// | moved house | 8% | 24% | record (another postcode from the history) |
/// | middle names dropped | 10% | 30% | record with middle names, where the partner records them |
/// | middle name added | 1% | 3% | other record where the partner records middle names |
/// | family-name variant | 10% | 30% | record with a double-barrelled, `Mc`/`Mac` or several-word name |
/// | sex miscoded | 0.2% | 0.6% | record |
/// | missing | 1% | 3% | field (names, date of birth, sex, postcode) |
/// | placeholder | 0.5% | 1.5% | field (the same, and each national number) |
/// | missing national number | 5% | 15% | number the partner holds |
/// | duplicate within a file | 2% | 6% | person in the extract |
///
/// Which national numbers a partner holds at all is a property of the
/// dataset ([`Content::National`]), not of the profile.
pub const RATE_TABLE: [(Corruption, f64, f64, &str); Corruption::COUNT] = [
    (Corruption::TypoGiven, 0.02, 0.06, "record"),
    (Corruption::TypoFamily, 0.02, 0.06, "record"),
    (Corruption::TypoDob, 0.005, 0.015, "record"),
    (
        Corruption::TypoPostcode,
        0.01,
        0.03,
        "record with a postcode",
    ),
    (Corruption::TypoNumber, 0.005, 0.015, "number written"),
    (
        Corruption::Nickname,
        0.05,
        0.15,
        "record whose first name has a nickname",
    ),
    (Corruption::SwappedNames, 0.01, 0.03, "record"),
    (
        Corruption::DayMonthSwapped,
        0.01,
        0.03,
        "record with day <= 12 and day != month",
    ),
    (Corruption::MovedHouse, 0.08, 0.24, "record"),
    (
        Corruption::MiddleDropped,
        0.10,
        0.30,
        "record with middle names recorded",
    ),
    (
        Corruption::MiddleAdded,
        0.01,
        0.03,
        "other record where middle names are recorded",
    ),
    (
        Corruption::FamilyVariant,
        0.10,
        0.30,
        "record with a variable family name",
    ),
    (Corruption::SexMiscoded, 0.002, 0.006, "record"),
    (Corruption::Missing, 0.01, 0.03, "field"),
    (Corruption::Placeholder, 0.005, 0.015, "field"),
    (
        Corruption::MissingNumber,
        0.05,
        0.15,
        "national number held",
    ),
    (Corruption::Duplicate, 0.02, 0.06, "person in the extract"),
];

/// Corruption rates, one probability per [`Corruption`]; see [`RATE_TABLE`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates([f64; Corruption::COUNT]);

impl Rates {
    /// The rate of one corruption.
    pub fn get(&self, corruption: Corruption) -> f64 {
        self.0[corruption as usize]
    }

    /// The same rates with one changed.
    pub fn with(mut self, corruption: Corruption, rate: f64) -> Self {
        self.0[corruption as usize] = rate;
        self
    }
}

// ---------------------------------------------------------------------------
// People.

/// A synthetic person's stable identifier, written `P0000042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonId(pub u32);

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{:07}", self.0)
    }
}

/// How a person is related to an earlier one, when they are: the hard
/// negatives of linkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Same family name and addresses, a different first name and date of birth.
    Sibling(PersonId),
    /// Same family name, addresses and date of birth; sometimes the same initial.
    Twin(PersonId),
    /// The son of the other person, with his first name and family name and
    /// addresses, born 18 to 35 years later.
    Son(PersonId),
}

/// A UK postcode of the population: a real outward code, a random inward code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Postcode {
    outward: u16,
    inward: [u8; 3],
}

impl Postcode {
    /// The outward code (district), `SW1A`.
    pub fn outward(&self) -> &'static str {
        &tables().outward[self.outward as usize].code
    }

    /// The inward code, `1AA`.
    pub fn inward(&self) -> &str {
        std::str::from_utf8(&self.inward).expect("inward codes are ASCII")
    }

    /// The region of the postcode's area, such as `North West` or `Wales`.
    pub fn region(&self) -> &'static str {
        tables().outward[self.outward as usize].region
    }
}

/// The canonical form, `SW1A 1AA` (spec §4.5).
impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.outward(), self.inward())
    }
}

/// An NHS number with a valid check digit; displayed as its ten digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NhsNumber(pub u64);

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:010}", self.0)
    }
}

/// A National Insurance number with an allocatable prefix and a suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NiNumber {
    pub prefix: [u8; 2],
    pub digits: u32,
    /// `A` to `D`.
    pub suffix: u8,
}

impl NiNumber {
    /// With the suffix, as printed on a card: `AB123456C`.
    pub fn full(&self) -> String {
        format!("{self}{}", char::from(self.suffix))
    }
}

/// The canonical form, without the suffix: `AB123456` (spec §4.6.3).
impl fmt::Display for NiNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{:06}",
            char::from(self.prefix[0]),
            char::from(self.prefix[1]),
            self.digits
        )
    }
}

/// A PNC ID: the year of the first record and a serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PncId {
    /// Four-digit year.
    pub year: u16,
    pub serial: u32,
}

impl PncId {
    /// The check letter (spec §4.6.4).
    pub fn check(&self) -> char {
        pnc_check_letter(u32::from(self.year % 100), self.serial)
    }
}

/// The canonical form, `YY/NNNNNNNL` (spec §4.6.4).
impl fmt::Display for PncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}/{:07}{}",
            self.year % 100,
            self.serial,
            self.check()
        )
    }
}

/// A CRO number, standard or `SF` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CroNumber {
    /// `NNNNNN/YYL`.
    Standard { serial: u32, year: u16 },
    /// `SFYY/N…L`, the serial written without leading zeros.
    Sf { year: u16, serial: u32 },
}

impl CroNumber {
    /// The check letter (spec §4.6.5).
    pub fn check(&self) -> char {
        match *self {
            CroNumber::Standard { serial, year } => cro_check_letter(serial, u32::from(year % 100)),
            CroNumber::Sf { year, serial } => {
                cro_sf_check_letter(u32::from(year % 100), serial, digit_count(serial))
            }
        }
    }
}

/// The canonical form: `NNNNNN/YYL` or `SFYY/N…L` (spec §4.6.5).
impl fmt::Display for CroNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CroNumber::Standard { serial, year } => {
                write!(f, "{serial:06}/{:02}{}", year % 100, self.check())
            }
            CroNumber::Sf { year, serial } => {
                write!(f, "SF{:02}/{serial}{}", year % 100, self.check())
            }
        }
    }
}

/// A prison (NOMS) number, `A1234BC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrisonNumber(pub [u8; 7]);

impl fmt::Display for PrisonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.0).expect("prison numbers are ASCII"))
    }
}

/// One synthetic person: the truth behind every record about them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: PersonId,
    /// [`Sex::Male`] or [`Sex::Female`].
    pub sex: Sex,
    /// First name then middle names, as the person writes them (`Seán`).
    pub given_names: Vec<&'static str>,
    /// As the person writes it: `O'Brien`, `Smith-Jones`, `Da Silva`.
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    /// Oldest first; the last is the current address. At least two.
    pub postcodes: Vec<Postcode>,
    pub nhs_number: Option<NhsNumber>,
    pub ni_number: Option<NiNumber>,
    pub pnc_id: Option<PncId>,
    pub cro_number: Option<CroNumber>,
    pub prison_number: Option<PrisonNumber>,
    /// The person's release from custody in 2024: extracts date their events
    /// (release, supervision, offences, services, jobs) around it.
    pub release_date: NaiveDate,
    /// A sibling, twin or father among the people before this one.
    pub relation: Option<Relation>,
}

impl Person {
    /// The current postcode.
    pub fn postcode(&self) -> Postcode {
        *self.postcodes.last().expect("every person has a postcode")
    }

    /// The given names joined by spaces.
    pub fn given_names_text(&self) -> String {
        self.given_names.join(" ")
    }

    /// The canonical form of one of the person's national numbers, if they have it.
    pub fn national(&self, kind: NationalId) -> Option<String> {
        match kind {
            NationalId::Nhs => self.nhs_number.map(|n| n.to_string()),
            NationalId::Ni => self.ni_number.map(|n| n.to_string()),
            NationalId::Pnc => self.pnc_id.map(|n| n.to_string()),
            NationalId::Cro => self.cro_number.map(|n| n.to_string()),
            NationalId::Prison => self.prison_number.map(|n| n.to_string()),
        }
    }
}

/// The first day of the cohort's release window.
const RELEASE_YEAR: i32 = 2024;
/// Earliest and latest year of birth.
const BIRTH_YEARS: (i32, i32) = (1950, 2006);

/// Makes `n` people, deterministically for `seed`.
///
/// National numbers are unique across the population (up to about 100,000
/// people per year of first arrest for PNC IDs and CRO numbers, and 150
/// million NHS numbers: far beyond any test).
pub fn people(seed: u64, n: usize) -> Vec<Person> {
    let mut rng = Rng::new(seed ^ 0x5045_4f50_4c45);
    let mut numbers = NumberAllocator::new(rng.next_u64());
    let mut out: Vec<Person> = Vec::with_capacity(n);
    for i in 0..n {
        let id = PersonId(u32::try_from(i + 1).expect("at most u32::MAX - 1 people"));
        let sex = if rng.chance(0.85) {
            Sex::Male
        } else {
            Sex::Female
        };
        let release_date = ymd(RELEASE_YEAR, 1, 1) + Days::new(rng.below(366));
        let related =
            (i > 0 && rng.chance(0.05)).then(|| i - 1 - rng.below(i.min(30) as u64) as usize);
        let mut person = match related {
            Some(j) => relative(&out[j], id, sex, release_date, &mut rng),
            None => stranger(id, sex, release_date, &mut rng),
        };
        numbers.assign(&mut person, &mut rng);
        out.push(person);
    }
    out
}

/// Makes `n` people whose current postcode is in `region` (such as
/// `London` or `North West`; see [`Postcode::region`]), deterministically
/// for `seed`: the first `n` such people of a population made by [`people`],
/// each keeping their identifier there. With no region, [`people`] itself.
///
/// # Errors
/// The region is not one of the population's.
pub fn people_in(seed: u64, n: usize, region: Option<&str>) -> Result<Vec<Person>, String> {
    let Some(region) = region else {
        return Ok(people(seed, n));
    };
    if !tables().outward.iter().any(|o| o.region == region) {
        let mut known: Vec<&str> = tables().outward.iter().map(|o| o.region).collect();
        known.sort_unstable();
        known.dedup();
        return Err(format!(
            "unknown region `{region}`; the regions are: {}",
            known.join(", ")
        ));
    }
    // Draw more people than needed, more again if the region is small.
    let mut drawn = n.saturating_mul(2).max(64);
    loop {
        let within: Vec<Person> = people(seed, drawn)
            .into_iter()
            .filter(|p| p.postcode().region() == region)
            .take(n)
            .collect();
        if within.len() == n {
            return Ok(within);
        }
        drawn = drawn.saturating_mul(2);
    }
}

/// Whole years of age of `p` on `day`.
pub fn age_on(p: &Person, day: NaiveDate) -> u32 {
    day.years_since(p.date_of_birth).unwrap_or(0)
}

/// A person unrelated to anyone before.
fn stranger(id: PersonId, sex: Sex, release_date: NaiveDate, rng: &mut Rng) -> Person {
    let t = tables();
    let first = t.given(sex).sample(rng);
    let given_names = with_middles(first, sex, rng);
    let family_name = random_family_name(rng);
    let age = if rng.chance(0.7) {
        18 + rng.below(12) + rng.below(12)
    } else {
        18 + rng.below(56)
    };
    let birth_year = (release_date.year() - age as i32).clamp(BIRTH_YEARS.0, BIRTH_YEARS.1);
    let date_of_birth = random_day_of(birth_year, rng);
    let home = t.sample_outward(rng);
    let moves = 2 + rng.below(3) as usize;
    let mut postcodes = Vec::with_capacity(moves);
    let mut area = home;
    for _ in 0..moves {
        postcodes.push(Postcode {
            outward: area,
            inward: random_inward(rng),
        });
        area = if rng.chance(0.75) {
            t.near(area, rng)
        } else {
            t.sample_outward(rng)
        };
    }
    Person {
        id,
        sex,
        given_names,
        family_name,
        date_of_birth,
        postcodes,
        nhs_number: None,
        ni_number: None,
        pnc_id: None,
        cro_number: None,
        prison_number: None,
        release_date,
        relation: None,
    }
}

/// A sibling, twin or son of `other`: same family name and addresses.
fn relative(
    other: &Person,
    id: PersonId,
    sex: Sex,
    release_date: NaiveDate,
    rng: &mut Rng,
) -> Person {
    let t = tables();
    let mut person = stranger(id, sex, release_date, rng);
    person.family_name = other.family_name.clone();
    person.postcodes = other.postcodes.clone();
    let son_dob = (other.sex == Sex::Male && sex == Sex::Male && rng.chance(0.15))
        .then(|| other.date_of_birth + Days::new(365 * 18 + rng.below(365 * 17)))
        .filter(|d| d.year() <= BIRTH_YEARS.1);
    if let Some(dob) = son_dob {
        person.date_of_birth = dob;
        person.given_names[0] = other.given_names[0];
        person.relation = Some(Relation::Son(other.id));
        return person;
    }
    let names = t.given(sex);
    let twin = rng.chance(0.2);
    let same_initial = twin && rng.chance(0.3);
    let initial = other.given_names[0].chars().next();
    for _ in 0..40 {
        let first = person.given_names[0];
        let distinct = first != other.given_names[0];
        if distinct && (!same_initial || first.chars().next() == initial) {
            break;
        }
        person.given_names[0] = names.sample(rng);
    }
    if twin {
        person.date_of_birth = other.date_of_birth;
        person.relation = Some(Relation::Twin(other.id));
    } else {
        let gap = 300 + rng.below(3700);
        let later = other.date_of_birth + Days::new(gap);
        person.date_of_birth = if later.year() <= BIRTH_YEARS.1 && rng.chance(0.5) {
            later
        } else {
            other
                .date_of_birth
                .checked_sub_days(Days::new(gap))
                .filter(|d| d.year() >= BIRTH_YEARS.0)
                .unwrap_or(later.min(ymd(BIRTH_YEARS.1, 12, 31)))
        };
        person.relation = Some(Relation::Sibling(other.id));
    }
    person
}

/// A first name with no, one (55%) or two (10%) middle names.
fn with_middles(first: &'static str, sex: Sex, rng: &mut Rng) -> Vec<&'static str> {
    let names = tables().given(sex);
    let middles = match rng.below(100) {
        0..55 => 1,
        55..65 => 2,
        _ => 0,
    };
    let mut out = Vec::with_capacity(1 + middles);
    out.push(first);
    while out.len() < 1 + middles {
        let middle = names.sample(rng);
        if !out.contains(&middle) {
            out.push(middle);
        }
    }
    out
}

/// A family name: 4% double-barrelled, 25% from the long tail, the rest
/// from the frequency-ranked list.
fn random_family_name(rng: &mut Rng) -> String {
    let t = tables();
    if rng.chance(0.04) {
        let single = |rng: &mut Rng| loop {
            let name = t.family.sample(rng);
            if !name.contains(['-', '_']) {
                break name;
            }
        };
        let a = single(rng);
        let mut b = single(rng);
        while b == a {
            b = single(rng);
        }
        return format!("{a}-{b}");
    }
    if rng.chance(0.25) {
        return rng.pick(&t.rare_family).clone();
    }
    t.family.sample(rng).replace('_', " ")
}

fn random_day_of(year: i32, rng: &mut Rng) -> NaiveDate {
    let first = ymd(year, 1, 1);
    let days = ymd(year + 1, 1, 1).signed_duration_since(first).num_days() as u64;
    first + Days::new(rng.below(days))
}

/// Letters allowed in the inward code (spec §4.5).
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

fn random_inward(rng: &mut Rng) -> [u8; 3] {
    [
        b'0' + rng.below(10) as u8,
        *rng.pick(INWARD_LETTERS),
        *rng.pick(INWARD_LETTERS),
    ]
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

fn digit_count(mut n: u32) -> u32 {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Hands out unique national numbers with valid check characters.
///
/// Each number space is walked through a keyed permutation (a small Feistel
/// network with cycle walking) of a counter, so numbers are unique without
/// remembering them and still look random.
struct NumberAllocator {
    key: u64,
    nhs: u64,
    ni: Vec<u64>,
    pnc: [u64; 100],
    cro: [u64; 100],
    sf: [u64; 100],
    prison: [u64; 2],
}

/// Serials per year for PNC IDs and CRO numbers: 1 to 999,999.
const SERIALS: u64 = 999_999;
/// Prison numbers per first letter: four digits (not 0000) and two letters.
const PRISON_SPACE: u64 = 9_999 * 676;

impl NumberAllocator {
    fn new(key: u64) -> Self {
        NumberAllocator {
            key,
            nhs: 0,
            ni: vec![0; tables().ni_prefixes.len()],
            pnc: [0; 100],
            cro: [0; 100],
            sf: [0; 100],
            prison: [0; 2],
        }
    }

    /// Gives the person the numbers they have: NHS 93%, NI 90%, PNC 97%,
    /// CRO 75% (5% of those of the `SF` form), prison number 90%.
    fn assign(&mut self, p: &mut Person, rng: &mut Rng) {
        let born = p.date_of_birth.year();
        let latest = RELEASE_YEAR.max(born + 13);
        let span = (latest - (born + 12)).max(1) as u64;
        let first_arrest = born + 12 + rng.below(span).min(rng.below(span)) as i32;
        let first_arrest = first_arrest.min(RELEASE_YEAR);
        if rng.chance(0.93) {
            p.nhs_number = Some(self.nhs());
        }
        if rng.chance(0.90) {
            p.ni_number = Some(self.ni(rng));
        }
        if rng.chance(0.97) {
            p.pnc_id = Some(self.pnc(first_arrest));
        }
        if rng.chance(0.75) {
            let year = (first_arrest + rng.below(3) as i32).min(RELEASE_YEAR);
            p.cro_number = Some(if rng.chance(0.05) {
                self.sf(year)
            } else {
                self.cro(year)
            });
        }
        if rng.chance(0.90) {
            p.prison_number = Some(self.prison(first_arrest));
        }
    }

    fn nhs(&mut self) -> NhsNumber {
        // Even nine-digit bases 400000000..699999998; when a base has no
        // valid check digit (or gives ten equal digits) the odd base after
        // it, never used otherwise, is taken instead: a last digit one
        // higher adds 2 to the weighted sum, which is then valid.
        let k = permute(self.nhs, 150_000_000, self.key ^ 0x004e_4853);
        self.nhs += 1;
        let base = 400_000_000 + 2 * k;
        for candidate in [base, base + 1] {
            let mut digits = [0u8; 9];
            let mut rest = candidate;
            for slot in digits.iter_mut().rev() {
                *slot = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            let first9 = std::str::from_utf8(&digits).expect("ASCII digits");
            if let Some(check) = nhs_check_digit(first9) {
                let uniform = digits.iter().all(|&d| d == digits[0]) && check as u8 == digits[0];
                if !uniform {
                    let check = u64::from(check.to_digit(10).expect("a digit"));
                    return NhsNumber(candidate * 10 + check);
                }
            }
        }
        unreachable!("one of two adjacent bases has a valid check digit")
    }

    fn ni(&mut self, rng: &mut Rng) -> NiNumber {
        let prefixes = &tables().ni_prefixes;
        let mut at = rng.below(prefixes.len() as u64) as usize;
        while self.ni[at] >= SERIALS {
            at = (at + 1) % prefixes.len();
        }
        let digits = 1 + permute(self.ni[at], SERIALS, self.key ^ at as u64);
        self.ni[at] += 1;
        NiNumber {
            prefix: prefixes[at],
            digits: digits as u32,
            suffix: b'A' + rng.below(4) as u8,
        }
    }

    fn pnc(&mut self, year: i32) -> PncId {
        let mut year = year;
        while self.pnc[(year % 100) as usize] >= SERIALS {
            year = if year >= RELEASE_YEAR { 1990 } else { year + 1 };
        }
        let slot = (year % 100) as usize;
        let serial = 1 + permute(
            self.pnc[slot],
            SERIALS,
            self.key ^ 0x0050_4e43 ^ slot as u64,
        );
        self.pnc[slot] += 1;
        PncId {
            year: year as u16,
            serial: serial as u32,
        }
    }

    fn cro(&mut self, year: i32) -> CroNumber {
        let mut year = year;
        while self.cro[(year % 100) as usize] >= SERIALS {
            year = if year >= RELEASE_YEAR { 1990 } else { year + 1 };
        }
        let slot = (year % 100) as usize;
        let serial = 1 + permute(
            self.cro[slot],
            SERIALS,
            self.key ^ 0x0043_524f ^ slot as u64,
        );
        self.cro[slot] += 1;
        CroNumber::Standard {
            serial: serial as u32,
            year: year as u16,
        }
    }

    fn sf(&mut self, year: i32) -> CroNumber {
        let mut year = year;
        while self.sf[(year % 100) as usize] >= SERIALS {
            year = if year >= RELEASE_YEAR { 1990 } else { year + 1 };
        }
        let slot = (year % 100) as usize;
        let serial = 1 + permute(self.sf[slot], SERIALS, self.key ^ 0x5346 ^ slot as u64);
        self.sf[slot] += 1;
        CroNumber::Sf {
            year: year as u16,
            serial: serial as u32,
        }
    }

    fn prison(&mut self, first_custody: i32) -> PrisonNumber {
        let mut letter = usize::from(first_custody >= 2010);
        if self.prison[letter] >= PRISON_SPACE {
            letter = 1 - letter;
        }
        let x = permute(
            self.prison[letter],
            PRISON_SPACE,
            self.key ^ 0x4e4f_4d53 ^ letter as u64,
        );
        self.prison[letter] += 1;
        let digits = 1 + x / 676;
        let pair = x % 676;
        let mut out = [0u8; 7];
        out[0] = [b'A', b'G'][letter];
        for (i, d) in format!("{digits:04}").bytes().enumerate() {
            out[1 + i] = d;
        }
        out[5] = b'A' + (pair / 26) as u8;
        out[6] = b'A' + (pair % 26) as u8;
        PrisonNumber(out)
    }
}

/// A keyed permutation of `0..m`: a four-round Feistel network on the
/// smallest even number of bits covering `m`, walked until it lands in range.
fn permute(x: u64, m: u64, key: u64) -> u64 {
    debug_assert!(x < m && m >= 2);
    let bits = 64 - (m - 1).leading_zeros();
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut v = x;
    loop {
        let (mut l, mut r) = (v >> half, v & mask);
        for round in 0..4u64 {
            let f = mix(r ^ key.rotate_left(round as u32 * 16) ^ round) & mask;
            (l, r) = (r, l ^ f);
        }
        v = (l << half) | r;
        if v < m {
            return v;
        }
    }
}

/// The SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, a stable hash of a dataset's name for its seed.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---------------------------------------------------------------------------
// Tables: names, postcode areas, nicknames.

/// Given names of men, commonest first (men born in the UK 1950–2006, with
/// the names of its larger minorities).
const MALE_NAMES: &str = "
David John Michael Paul Mark Andrew James Richard Robert Stephen Christopher
Daniel Peter Thomas Anthony Simon Matthew Gary Kevin Darren Lee Craig Ian
Martin Steven Neil Jonathan William Alan Dean Wayne Jason Brian Philip Colin
Keith Graham Adam Ryan Liam Jamie Benjamin Samuel Joseph Nicholas Scott Shaun
Carl Stuart Jack Luke Kieran Jordan Connor Callum Nathan Lewis Aaron Ashley
Jake Kyle Joshua George Edward Harry Charles Alexander Oliver Henry Patrick
Sean Barry Terence Raymond Kenneth Gordon Trevor Derek Malcolm Roger Geoffrey
Leslie Dennis Frank Roy Clive Nigel Russell Glen Tony Danny Karl Robin Gareth
Rhys Owen Dylan Gavin Justin Marcus Jeremy Howard Lloyd Leon Damien Dominic
Elliot Reece Jay Alfie Charlie Archie Harvey Mason Ethan Tyler Bradley Billy
Jacob Louis Max Toby Joel Harrison Cameron Kai Jayden Declan Conor Ciaran Niall
Brendan Euan Fraser Ross Grant Duncan Hamish Angus Alistair Iain Gregor Murray
Ewan Rory Muhammad Mohammed Mohammad Ali Ahmed Hassan Hussain Imran Adnan
Kamran Tariq Zain Bilal Usman Omar Yusuf Ibrahim Abdul Amir Arjun Rajesh Sanjay
Vijay Ravi Sunil Deepak Amit Kwame Kofi Emeka Chinedu Tunde Jerome Delroy
Winston Marlon Tyrone Dwayne Curtis Leroy Clinton Everton Errol Piotr Paweł
Tomasz Krzysztof Marek Łukasz Andrzej Adrian Florin Ionuț Mihai Bogdan Gheorghe
Vasile Dariusz Jan Seán Ciarán Dónal Pádraig Oisín Eoin Cathal Fergus Francis
Gerard Bernard Desmond Donald Douglas Reginald Ronald Leonard Lawrence Gregory
Jeffrey Timothy Clifford Frederick Abraham Alfred Albert Arthur Walter Harold
Ernest Stanley Norman Victor Cyril Eric Sidney Herbert Wilfred Vincent Eugene
Maurice Gilbert Stewart Rodney Melvin Dale Warren Troy Brett Kirk Neville Garry
Elliott Ricky Mitchell Jasper Felix Theo Oscar Isaac Leo Noah Logan Reuben
Ellis Freddie Tommy Bobby Frankie Louie Joe Gerald Julian Guy Rupert Hugh Giles
Miles Jon Nathaniel Zachary Terry Alex Ben Sam Tom Dan Mike Chris Nick Matt
Jim Steve Phil Ken Josh Adil Asif Faisal Nadeem Shahid Waqas Zubair Haroon
Rashid Sajid Jamal Kareem Rahim Kadeem Jermaine Leonardo Marco Luca Antonio
Giuseppe Carlos José Miguel Pedro João Rui Tiago Mehmet Mustafa Emre Kemal Ahmet
Darius Aleksander Dawid Kacper Jakub Szymon Mateusz Bartosz Radu Cristian
Nicolae Ștefan Alin Valentin Costel Aidan Brandon Shane Wesley Byron Ashton
Spencer Bailey Jenson Ronnie Stevie Lenny Kenny Eddie Ted Alec Bert Stan Vic
Les Reg Rod Barrie Derrick Roland Lionel Cecil Percy Horace Clarence Edmund
Gideon Simeon Ezra Elijah Caleb Isaiah Levi Reggie Dexter Milo Rowan Finley
Riley Morgan Evan Ieuan Gethin Dafydd Iwan Emyr Aled Huw Cai Llŷr Bryn Gwyn
Idris Tudor Rhodri Steffan Kelvin Lewin Ashraf Nasir Saif Tahir Zafar Arif
";

/// Given names of women, commonest first.
const FEMALE_NAMES: &str = "
Susan Sarah Karen Julie Elizabeth Claire Nicola Lisa Emma Michelle Joanne Helen
Amanda Jennifer Rachel Kelly Louise Laura Samantha Deborah Jacqueline Tracey
Donna Dawn Angela Alison Margaret Patricia Linda Christine Caroline Catherine
Katherine Gemma Hayley Stacey Natalie Victoria Jessica Rebecca Charlotte Hannah
Amy Sophie Chloe Lauren Danielle Jade Leanne Kirsty Stephanie Zoe Amber Megan
Holly Rachael Jodie Kerry Kim Sharon Tracy Paula Mandy Carol Janet Jane Ann
Anne Mary Pauline Maureen Sandra Beverley Diane Gillian Lesley Lorraine Wendy
Yvonne Jean Barbara Brenda Sheila Valerie Joan Irene Doreen Shirley Sylvia
Marion Heather Fiona Kathryn Kathleen Teresa Theresa Bernadette Siobhan Niamh
Aoife Ciara Roisin Orla Sinead Grainne Bethan Ffion Cerys Rhiannon Seren Carys
Eleri Gwen Charlene Chantelle Shannon Jasmine Courtney Paige Kayleigh Aisha
Fatima Ayesha Amina Zainab Maryam Nadia Samira Yasmin Shabnam Nazia Rukhsana
Parveen Shazia Priya Anita Sunita Kiran Meena Pooja Neha Asha Gurpreet Harpreet
Manpreet Simran Agnieszka Katarzyna Anna Magdalena Joanna Ewa Monika Alina Ioana
Elena Maria Andreea Grace Olivia Amelia Isla Ava Emily Sophia Mia Poppy Ella
Lily Evie Isabella Ivy Freya Harper Willow Ruby Millie Daisy Phoebe Scarlett
Eva Erin Abigail Lucy Leah Eleanor Alice Imogen Georgia Bethany Ellie Katie
Zoë Siobhán Róisín Chloë Renée Sinéad Gráinne Áine Caoimhe Aisling Mairead
Bríd Eimear Nuala Deirdre Colette Annette Jeanette Lynne Elaine Denise Janice
Marie Rosemary Judith Pamela Constance Abbie Debra Jill Ruth Hazel Joyce Beryl
Gloria Hilda Edna Vera Glenys Olwen Myfanwy Nerys Sian Sioned Lowri Nia Catrin
Elin Mari Haf Leona Tamsin Tara Toni Vicky Verity Vanessa Ursula Tina Terri
Tanya Suzanne Stella Sonia Shelley Selina Rosie Rosa Rita Pippa Penny Naomi
Nina Miriam Melanie Maxine Marilyn Lydia Lorna Lindsey Kirsten Kate Julia
Josephine Jenny Jayne Janine Harriet Gina Frances Faye Eve Esther Clare Cheryl
Carla Bridget Beth Becky Audrey Antonia Alexandra Adele Abby Zara Yvette Violet
Tilly Summer Sienna Robyn Rebekah Precious Patience Nicole Maisie Lola Layla
Keira Kayla Hollie Gabrielle Francesca Evelyn Eloise Demi Darcy Connie Chelsea
Caitlin Brooke Bella Ashleigh April Anya Angel Amira Alicia Abimbola Adaeze
Chidinma Ngozi Funmilayo Ama Akua Efua Abena Esi Halima Hodan Ifrah Sahra
Hamida Shamima Taslima Rubina Nasreen Salma Farah Hina Sana Iqra Mehwish Rabia
Saima Sadia Uzma Jasvir Kulwinder Rajinder Sukhjinder Balwinder Amrit Navdeep
Ritu Shalini Deepa Lakshmi Kavita Rekha Bianca Daria Oana Roxana Irina Natalia
Aleksandra Dorota Beata Justyna Paulina Marta Kinga Weronika Zuzanna
";

/// Family names, commonest first (`_` stands for a space).
const FAMILY_NAMES: &str = "
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts
Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris
Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee
King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price
Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins
Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt
Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler
Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed
Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders
Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer
Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory
Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins
Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah
Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson
Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald
Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss
McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston
Gordon Doyle Wallace George Jordan Hutchinson Rowe Burke May Pritchard Gilbert
Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley Walters
Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert
Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn
Barnett Baxter Bibi Clayton Nash Greenwood Jennings Holt Kemp Poole Gallagher
Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French
Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Dickinson Todd Barlow
Peters Lucas Knowles Hartley Miah Simmons Morrison Benson Farrell Sharpe Hobbs
Chandler Steele Iqbal Fraser Lord Hanson Townsend Farmer Rahman Islam Uddin
Hassan Malik Mohammed Chaudhry Sharma Kumar Mistry Parmar Chauhan Gupta Rana
Sandhu Dhillon Bains Sidhu Butt Javed Rehman Aziz Anwar Bashir Raza Saleem Latif
Qureshi Mirza Nawaz Hanif Zaman Mahmood Okafor Adeyemi Mensah Owusu Asante
Boateng Osei Ogunleye Adebayo Okonkwo Eze Mohamed Abdi Warsame Farah Gayle
McKenzie Samuels Mullings Forbes Nowak Kowalski Wiśniewski Wójcik Kamiński
Lewandowski Zieliński Szymański Kozłowski Mazur Popescu Ionescu Popa Dumitru
Stan Stoica Gheorghe Rusu Munteanu Constantin Da_Silva Santos Ferreira Rodrigues
Costa Pereira Yılmaz Nguyen Tran Chen Wang Li Zhang Müller Ødegård Van_der_Berg
De_Souza D'Souza D'Costa St_John Le_Roux Llewellyn Pugh Vaughan Howells Bowen
Prosser Jenkin Meredith Lloyd-Jones MacLeod MacKenzie MacDonald McLean
Fitzgerald O'Sullivan Kavanagh Doherty Brennan Flynn Nolan Duffy Regan Daly
Connolly McKenna O'Reilly O'Donnell McLaughlin McGuinness Maguire Donnelly
Hughes-Jones Gillespie Fitzpatrick Brady Keane Whelan Sweeney Hegarty Boyle
Devlin Dolan Lyons Moran Power Cullen Rooney Ward-Smith Abbott Ainsworth Aldridge
Archer Ashton Atherton Bamford Barnard Bentley Birch Blackburn Blackwell Bolton
Bradshaw Brookes Buckingham Bull Burrows Butcher Cartwright Chadwick Cole-Hamilton
Coates Connor Crawford Crowther Dale Dalton Dennis Dobson Draper Duncan Dyer
Eaton Ellison Emery Fairclough Farrow Fenton Field Finch Firth Fleming Flint
Forrest Garner Gates Gough Goulding Greaves Hale Hancock Hargreaves Haynes
Hemmings Hicks Hilton Hirst Holden Hollis Hope Horton Howe Hurst Ingram Jacobs
Kay Kerr Kirby Kirk Lamb Lancaster Lang Leach Lees Lister Little Lomax Lowry
Lucas-Tooth Mace Mather Metcalfe Millar Moody Mooney Morley Moss-Bell Naylor
Noble Norris Nuttall Oakley Ogden Orton Pace Parkin Peacock Pickering Platt
Pollard Pope Preston Quigley Rhodes Rigby Roach Rowley Russo Sanderson Shields
Short Skinner Smart Sparks Storey Summers Swift Tate Thornton Tomlinson Tyler
Underwood Vickers Wade Wainwright Wall Walsh-Murphy Warner Waters Weaver Whittaker
Wilde Winter Wolfe Worthington Wyatt Yeung Zielinska Baird Bain Cairns Christie
Ferris Galloway Hendry Lindsay Mackay Munro Paterson Ritchie Sinclair Sutherland
";

/// The long tail of rarer English family names: every prefix with every suffix.
const RARE_PREFIXES: &str = "Ash Black Brad Brook Cal Chad Clay Cold Crom Dar Ed
Fair Farn Gold Ham Hat Hol Kings Lang Lock Mar Mid Mor Nor Ox Pen Red Rid Ros
Ship Stan Stock Thorn War Whit Wil Wind Wor Brom Hather Shel Knot Pil Bur Cran
Dun Ever Sum Win Ather Ing Mel Ott Tad Bex Cas Dew Elm Har";
const RARE_SUFFIXES: &str = "ton ley worth field ford by ham well wood more stone
bury hurst dale den wick combe shaw thorpe land brook cliffe borough cott ridge
stead ling er man son";

/// Nicknames and short forms that the spec's table (§4.2.5) deliberately
/// leaves out, so a linker cannot recover the formal name from them.
const EXTRA_NICKNAMES: &[(&str, &str)] = &[
    ("James", "Jamie"),
    ("John", "Jack"),
    ("Henry", "Harry"),
    ("Charles", "Charlie"),
    ("Alexander", "Alec"),
    ("William", "Liam"),
    ("Terence", "Terry"),
    ("Patrick", "Pat"),
    ("Alan", "Al"),
    ("Albert", "Bert"),
    ("Frances", "Fran"),
    ("Joanne", "Jo"),
    ("Gary", "Gaz"),
    ("Darren", "Daz"),
    ("Kevin", "Kev"),
    ("Mohammed", "Mo"),
    ("Muhammad", "Mo"),
    ("Christine", "Chris"),
    ("Samantha", "Sam"),
    ("Alexandra", "Alex"),
    ("Nathan", "Nate"),
    ("Zachary", "Zac"),
    ("Victoria", "Tori"),
    ("Jonathan", "Jon"),
    ("Nicola", "Nikki"),
    ("Stephanie", "Steph"),
    ("Jacqueline", "Jackie"),
    ("Barry", "Baz"),
    ("Sharon", "Shaz"),
    ("Andrew", "Drew"),
    ("Anthony", "Ant"),
    ("Raymond", "Ray"),
    ("Stuart", "Stew"),
    ("Gareth", "Gaz"),
];

/// Postcode areas of England and Wales: the area, its districts (numeric
/// ranges, or whole outward codes), a weight (roughly population) and the region.
const AREAS: &[(&str, &str, u64, &str)] = &[
    ("E", "1-18", 30, "London"),
    ("N", "1-22", 25, "London"),
    ("NW", "1-11", 15, "London"),
    ("SE", "1-28", 30, "London"),
    ("SW", "2-20", 25, "London"),
    ("W", "2-14", 15, "London"),
    (
        "",
        "SW1A SW1P SW1V SW1W SW1X SW1Y W1D W1F W1G W1H W1K W1T W1U W1W WC1A WC1B WC1E WC1H WC1N \
         WC1X WC2A WC2B WC2E WC2H WC2N EC1A EC1M EC1N EC1R EC1V EC1Y EC2A EC2M EC3A EC4A E1W N1C",
        8,
        "London",
    ),
    ("BR", "1-8", 6, "London"),
    ("CR", "0 2-8", 8, "London"),
    ("DA", "1-18", 10, "London"),
    ("EN", "1-11", 8, "London"),
    ("HA", "0-9", 9, "London"),
    ("IG", "1-11", 8, "London"),
    ("KT", "1-24", 10, "London"),
    ("RM", "1-20", 10, "London"),
    ("SM", "1-7", 5, "London"),
    ("TW", "1-20", 10, "London"),
    ("UB", "1-11", 9, "London"),
    ("WD", "3-7 17-19 23-25", 6, "East of England"),
    ("M", "1-35 38 40-46 50", 40, "North West"),
    ("L", "1-40", 30, "North West"),
    ("WA", "1-16", 12, "North West"),
    ("WN", "1-8", 8, "North West"),
    ("BL", "0-9", 8, "North West"),
    ("OL", "1-16", 12, "North West"),
    ("SK", "1-17 22-23", 14, "North West"),
    ("PR", "1-9 25-26", 10, "North West"),
    ("BB", "1-12 18", 9, "North West"),
    ("FY", "1-8", 7, "North West"),
    ("LA", "1-23", 6, "North West"),
    ("CA", "1-28", 6, "North West"),
    ("CH", "1-8 41-49 60-66", 10, "North West"),
    ("CW", "1-12", 7, "North West"),
    ("NE", "1-13 15-49 61-66", 25, "North East"),
    ("SR", "1-8", 6, "North East"),
    ("DH", "1-9", 6, "North East"),
    ("DL", "1-17", 7, "North East"),
    ("TS", "1-29", 12, "North East"),
    ("LS", "1-29", 22, "Yorkshire and the Humber"),
    ("BD", "1-24", 15, "Yorkshire and the Humber"),
    ("HX", "1-7", 4, "Yorkshire and the Humber"),
    ("HD", "1-9", 6, "Yorkshire and the Humber"),
    ("WF", "1-17", 10, "Yorkshire and the Humber"),
    (
        "S",
        "1-36 40-45 60-66 70-75 80-81",
        25,
        "Yorkshire and the Humber",
    ),
    ("DN", "1-22 31-41", 15, "Yorkshire and the Humber"),
    ("HU", "1-20", 9, "Yorkshire and the Humber"),
    (
        "YO",
        "1 7-8 10-26 30-32 41-43 51 60-62",
        10,
        "Yorkshire and the Humber",
    ),
    ("HG", "1-5", 3, "Yorkshire and the Humber"),
    ("B", "1-50 60-80 90-98", 45, "West Midlands"),
    ("CV", "1-13 21-23 31-37 47", 12, "West Midlands"),
    ("WV", "1-16", 9, "West Midlands"),
    ("WS", "1-15", 9, "West Midlands"),
    ("DY", "1-14", 8, "West Midlands"),
    ("ST", "1-21", 12, "West Midlands"),
    ("TF", "1-13", 5, "West Midlands"),
    ("WR", "1-15", 6, "West Midlands"),
    ("HR", "1-9", 3, "West Midlands"),
    ("SY", "1-25", 5, "West Midlands"),
    ("DE", "1-24 45 55-56 65 72-75", 12, "East Midlands"),
    ("NG", "1-25 31-34", 15, "East Midlands"),
    ("LE", "1-19 65-67", 14, "East Midlands"),
    ("NN", "1-18 29", 10, "East Midlands"),
    ("LN", "1-13", 6, "East Midlands"),
    ("NR", "1-35", 9, "East of England"),
    ("IP", "1-33", 9, "East of England"),
    ("CB", "1-11 21-25", 8, "East of England"),
    ("PE", "1-38", 15, "East of England"),
    ("CO", "1-16", 8, "East of England"),
    ("CM", "0-24 77", 12, "East of England"),
    ("SS", "0-17", 10, "East of England"),
    ("LU", "1-7", 7, "East of England"),
    ("SG", "1-19", 8, "East of England"),
    ("AL", "1-10", 5, "East of England"),
    ("MK", "1-19 40-46", 9, "South East"),
    ("BN", "1-27 41-45", 14, "South East"),
    ("RH", "1-20", 10, "South East"),
    ("GU", "1-35 46-52", 14, "South East"),
    ("ME", "1-20", 12, "South East"),
    ("CT", "1-21", 8, "South East"),
    ("TN", "1-40", 12, "South East"),
    ("OX", "1-20 25-29 33 39 44 49", 10, "South East"),
    ("RG", "1-42 45", 16, "South East"),
    ("SL", "0-9", 7, "South East"),
    ("PO", "1-22 30-41", 14, "South East"),
    ("SO", "14-53", 14, "South East"),
    ("HP", "1-23 27", 9, "South East"),
    ("BS", "1-16 20-41 48-49", 18, "South West"),
    ("BA", "1-16 20-22", 7, "South West"),
    ("EX", "1-24 31-39", 10, "South West"),
    ("PL", "1-35", 9, "South West"),
    ("TQ", "1-14", 6, "South West"),
    ("TR", "1-27", 6, "South West"),
    ("TA", "1-24", 7, "South West"),
    ("BH", "1-25 31", 10, "South West"),
    ("DT", "1-11", 4, "South West"),
    ("SP", "1-11", 4, "South West"),
    ("SN", "1-16 25-26", 8, "South West"),
    ("GL", "1-20 50-56", 10, "South West"),
    ("CF", "3 5 10-24 31-48 61-64 71-72 81-83", 14, "Wales"),
    ("SA", "1-20 31-48 61-73", 10, "Wales"),
    ("NP", "4 7-8 10-13 15-16 18-20 22-26 44", 8, "Wales"),
    ("LL", "11-78", 10, "Wales"),
    ("LD", "1-8", 1, "Wales"),
];

/// Names sampled with frequencies that fall with rank (weight `C / (rank + offset)`).
struct Ranked {
    items: Vec<&'static str>,
    cumulative: Vec<u64>,
}

impl Ranked {
    /// Splits `text` at white space (`_` reads as a space), dropping repeats.
    fn new(text: &'static str, offset: u64) -> Self {
        let mut items: Vec<&'static str> = Vec::new();
        for word in text.split_whitespace() {
            if !items.contains(&word) {
                items.push(word);
            }
        }
        Self::weighted(items, offset)
    }

    fn weighted(items: Vec<&'static str>, offset: u64) -> Self {
        let mut total = 0;
        let cumulative = (0..items.len() as u64)
            .map(|rank| {
                total += 10_000_000 / (rank + 1 + offset);
                total
            })
            .collect();
        Ranked { items, cumulative }
    }

    fn sample(&self, rng: &mut Rng) -> &'static str {
        let total = *self.cumulative.last().expect("name lists are not empty");
        let x = rng.below(total);
        self.items[self.cumulative.partition_point(|&c| c <= x)]
    }
}

/// One outward code and where it is.
#[derive(Debug)]
struct Outward {
    code: String,
    region: &'static str,
    /// Range of `Tables::outward` holding the codes of the same area.
    area: (u16, u16),
}

/// Every table, built once.
struct Tables {
    male: Ranked,
    female: Ranked,
    family: Ranked,
    rare_family: Vec<String>,
    outward: Vec<Outward>,
    outward_cumulative: Vec<u64>,
    /// Given name → its nicknames and variants (title case).
    nicknames: HashMap<&'static str, Vec<String>, BuildHasherDefault<Fnv>>,
    ni_prefixes: Vec<[u8; 2]>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(Tables::build)
}

impl Tables {
    fn build() -> Tables {
        let male = Ranked::new(MALE_NAMES, 5);
        let female = Ranked::new(FEMALE_NAMES, 5);
        let mut family_items: Vec<&'static str> = Vec::new();
        for word in FAMILY_NAMES.split_whitespace() {
            if !family_items.contains(&word) {
                family_items.push(word);
            }
        }
        let family = Ranked::weighted(family_items, 20);
        let mut rare_family = Vec::new();
        for prefix in RARE_PREFIXES.split_whitespace() {
            for suffix in RARE_SUFFIXES.split_whitespace() {
                let name = format!("{prefix}{suffix}");
                if !family.items.contains(&name.as_str()) && !rare_family.contains(&name) {
                    rare_family.push(name);
                }
            }
        }
        let mut outward = Vec::new();
        let mut outward_cumulative = Vec::new();
        let mut total = 0;
        for &(area, districts, weight, region) in AREAS {
            let start = outward.len() as u16;
            let mut codes = Vec::new();
            for item in districts.split_whitespace() {
                if item.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    codes.push(item.to_owned());
                } else if let Some((lo, hi)) = item.split_once('-') {
                    let (lo, hi): (u32, u32) = (
                        lo.parse().expect("district ranges are numbers"),
                        hi.parse().expect("district ranges are numbers"),
                    );
                    codes.extend((lo..=hi).map(|d| format!("{area}{d}")));
                } else {
                    codes.push(format!("{area}{item}"));
                }
            }
            let end = start + codes.len() as u16;
            let each = weight * 10_000 / codes.len() as u64;
            for code in codes {
                total += each;
                outward_cumulative.push(total);
                outward.push(Outward {
                    code,
                    region,
                    area: (start, end),
                });
            }
        }
        let mut nicknames: HashMap<&'static str, Vec<String>, BuildHasherDefault<Fnv>> =
            HashMap::default();
        for &name in male.items.iter().chain(&female.items) {
            let upper = name.to_uppercase();
            let mut list: Vec<String> = NICKNAMES
                .iter()
                .filter(|(_, root)| *root == upper)
                .map(|(nick, _)| title_case(nick))
                .collect();
            list.extend(
                EXTRA_NICKNAMES
                    .iter()
                    .filter(|(formal, _)| *formal == name)
                    .map(|(_, nick)| (*nick).to_owned()),
            );
            if !list.is_empty() {
                nicknames.insert(name, list);
            }
        }
        let mut ni_prefixes = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let pair = [a, b];
                if !b"DFIQUV".contains(&a) && !b"DFIOQUV".contains(&b) && !NI_NEVER.contains(&&pair)
                {
                    ni_prefixes.push(pair);
                }
            }
        }
        Tables {
            male,
            female,
            family,
            rare_family,
            outward,
            outward_cumulative,
            nicknames,
            ni_prefixes,
        }
    }

    fn given(&self, sex: Sex) -> &Ranked {
        match sex {
            Sex::Female => &self.female,
            _ => &self.male,
        }
    }

    fn sample_outward(&self, rng: &mut Rng) -> u16 {
        let total = *self.outward_cumulative.last().expect("areas are listed");
        let x = rng.below(total);
        self.outward_cumulative.partition_point(|&c| c <= x) as u16
    }

    /// Another outward code of the same area.
    fn near(&self, outward: u16, rng: &mut Rng) -> u16 {
        let (start, end) = self.outward[outward as usize].area;
        start + rng.below(u64::from(end - start)) as u16
    }

    fn nicknames_of(&self, name: &str) -> &[String] {
        self.nicknames.get(name).map_or(&[], Vec::as_slice)
    }
}

/// FNV-1a as a `Hasher`, for short keys looked up on every row.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// NI prefixes never allocated besides those with an excluded letter (spec §4.6.3).
const NI_NEVER: [&[u8; 2]; 7] = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"];

/// `WILLIAM` → `William`.
fn title_case(upper: &str) -> String {
    let mut out = String::with_capacity(upper.len());
    for (i, c) in upper.chars().enumerate() {
        if i == 0 {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Datasets: what a partner's extract looks like.

/// A national identifier an extract may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NationalId {
    Nhs,
    Ni,
    Pnc,
    Cro,
    Prison,
}

impl NationalId {
    /// Every kind.
    pub const ALL: [NationalId; 5] = [
        NationalId::Nhs,
        NationalId::Ni,
        NationalId::Pnc,
        NationalId::Cro,
        NationalId::Prison,
    ];

    /// The identifier kind the client maps it to.
    pub fn kind(self) -> IdentifierKind {
        match self {
            NationalId::Nhs => IdentifierKind::NhsNumber,
            NationalId::Ni => IdentifierKind::NiNumber,
            NationalId::Pnc => IdentifierKind::PncId,
            NationalId::Cro => IdentifierKind::CroNumber,
            NationalId::Prison => IdentifierKind::PrisonNumber,
        }
    }
}

/// How an extract writes dates (dates of birth and event dates).
///
/// About 3% of dates of birth are written in another form that reads the
/// same under the extract's date order (ISO, `3 Feb 1980`, or without
/// leading zeros), as in files that passed through a spreadsheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFormat {
    /// `03/02/1980` (`%d/%m/%Y`), read day-first.
    DayMonthYear,
    /// `02/03/1980` (`%m/%d/%Y`), read month-first.
    MonthDayYear,
    /// `1980-02-03` (`%Y-%m-%d`).
    Iso,
    /// `1980-02-03 00:00:00` (a database datetime at midnight).
    IsoDateTime,
    /// `03-FEB-1980` (`%d-%b-%Y` in capitals, Oracle's default).
    DayMonYear,
}

impl DateFormat {
    /// The `strftime` pattern of the format.
    pub fn strftime(self) -> &'static str {
        match self {
            DateFormat::DayMonthYear => "%d/%m/%Y",
            DateFormat::MonthDayYear => "%m/%d/%Y",
            DateFormat::Iso => "%Y-%m-%d",
            DateFormat::IsoDateTime => "%Y-%m-%d %H:%M:%S",
            DateFormat::DayMonYear => "%d-%b-%Y",
        }
    }

    /// The date order the client must be told (`input.date_order`).
    pub fn date_order(self) -> DateOrder {
        match self {
            DateFormat::MonthDayYear => DateOrder::MonthFirst,
            _ => DateOrder::DayFirst,
        }
    }

    fn write(self, date: NaiveDate, out: &mut String) {
        let (y, m, d) = (
            date.year() as u64,
            u64::from(date.month()),
            u64::from(date.day()),
        );
        let numeric = |out: &mut String, parts: [u64; 3], widths: [usize; 3], separator: char| {
            for (i, (part, width)) in parts.into_iter().zip(widths).enumerate() {
                if i > 0 {
                    out.push(separator);
                }
                push_num(out, part, width);
            }
        };
        match self {
            DateFormat::DayMonthYear => numeric(out, [d, m, y], [2, 2, 4], '/'),
            DateFormat::MonthDayYear => numeric(out, [m, d, y], [2, 2, 4], '/'),
            DateFormat::Iso => numeric(out, [y, m, d], [4, 2, 2], '-'),
            DateFormat::IsoDateTime => {
                numeric(out, [y, m, d], [4, 2, 2], '-');
                out.push_str(" 00:00:00");
            }
            DateFormat::DayMonYear => {
                push_num(out, d, 2);
                out.push('-');
                out.push_str(MONTHS_UPPER[m as usize - 1]);
                out.push('-');
                push_num(out, y, 4);
            }
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_UPPER: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// How an extract codes sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SexCodes {
    /// `M`, `F`; unknown `U`.
    Letter,
    /// `Male`, `Female`; unknown `Not known`.
    Word,
    /// ISO/IEC 5218: `1`, `2`; unknown `0` or `9`.
    Digit,
}

/// How an extract's system stores names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameCase {
    /// As typed: mostly `O'Brien`, sometimes `OBRIEN` or `o'brien`.
    AsEntered,
    /// Capitals, as older case-management systems store them.
    Upper,
}

/// How an extract writes national numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// `9434765919`, `AB123456C`, `79/0163001B`, `065656/91H`.
    Compact,
    /// `943 476 5919`, `AB 12 34 56 C`, `1979/0163001B`, `65656/91H`.
    Grouped,
    /// Any accepted form, row by row: grouped, compact, hyphenated,
    /// spreadsheet decimals (`9434765919.0`), suffix left off, leading zeros
    /// left off, lower case.
    Mixed,
}

/// The text encoding of a CSV extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 with a byte-order mark, as Excel writes "CSV UTF-8".
    Utf8Bom,
    /// Windows-1252, as older Windows tools write; letters it lacks (`ł`,
    /// `ș`) are written without their marks.
    Windows1252,
}

/// The export's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub date_format: DateFormat,
    pub sex_codes: SexCodes,
    pub name_case: NameCase,
    pub number_format: NumberFormat,
    /// Field delimiter, one ASCII byte (`,`, `|`, `\t`, `;`).
    pub delimiter: u8,
    pub encoding: TextEncoding,
    /// Quote every field, not only those that need it.
    pub quote_all: bool,
    /// End lines with CR LF.
    pub crlf: bool,
}

/// One column of an extract: its header and what it holds.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    pub content: Content,
}

impl Column {
    pub fn new(header: &str, content: Content) -> Self {
        Column {
            header: header.to_owned(),
            content,
        }
    }
}

/// What a column holds. An extract has at most one column of each identifier.
#[derive(Debug, Clone)]
pub enum Content {
    /// The partner's own record number: `prefix` and a number of at least
    /// `digits` digits, unique in the file, rising down the file.
    RecordId {
        prefix: String,
        digits: usize,
    },
    GivenNames,
    FamilyName,
    DateOfBirth,
    Sex,
    Postcode,
    /// A national number, written for a share `held` of the people who have
    /// one (before [`Corruption::MissingNumber`]).
    National {
        id: NationalId,
        held: f64,
    },
    /// An attribute declared in the partner config under `name`.
    Attribute {
        name: String,
        value: AttributeValue,
    },
    /// A column the partner config does not map (the client never reads it).
    Unmapped(AttributeValue),
}

/// How an attribute's values are made.
#[derive(Debug, Clone)]
pub enum AttributeValue {
    /// A date `from..=to` days after the person's release date, blank with
    /// probability `blank`, in the extract's date format; coarsened to the
    /// month in the token file when `month`.
    DateAfterRelease {
        from: i64,
        to: i64,
        blank: f64,
        month: bool,
    },
    /// One of these values, the first ones commoner.
    Choice(Vec<String>),
    /// A whole number in `min..=max`, blank with probability `blank`.
    Integer { min: i64, max: i64, blank: f64 },
    /// `Y` with probability `yes`, else `N`.
    Flag { yes: f64 },
    /// The region of the person's current postcode (`North West`).
    Region,
    /// The person's age in whole years on their release date (an integer).
    AgeAtRelease,
    /// The person's sex as a word (`Male`, `Female`), as an attribute
    /// rather than an identifier.
    Gender,
    /// For benchmarks only ([`DatasetSpec::with_bench_columns`]): the row's
    /// position in the extract, from 1 — the same as its line in the
    /// dataset's part of `truth.csv` — so that a benchmark can find a linked
    /// row's true person. Draws nothing from the generator.
    BenchRow,
    /// For benchmarks only: the labels of the corruptions applied to the
    /// row (`typo_given;moved_house`), empty when none. Draws nothing.
    BenchCorruptions,
}

impl AttributeValue {
    /// The attribute type in the partner config.
    fn config_type(&self) -> &'static str {
        match self {
            AttributeValue::DateAfterRelease { .. } => "date",
            AttributeValue::Choice(_)
            | AttributeValue::Region
            | AttributeValue::Gender
            | AttributeValue::BenchRow
            | AttributeValue::BenchCorruptions => "string",
            AttributeValue::Integer { .. } | AttributeValue::AgeAtRelease => "integer",
            AttributeValue::Flag { .. } => "boolean",
        }
    }
}

/// One partner's extract: who is in it, how messy, and how it is laid out.
#[derive(Debug, Clone)]
pub struct DatasetSpec {
    /// The dataset's name in the project (letters, digits, `_`, `-`): the
    /// file stem, the partner config's `dataset` and the truth's first column.
    pub name: String,
    /// The organisation that exports it.
    pub partner: String,
    /// Share of the people who appear (each independently).
    pub coverage: f64,
    pub profile: Profile,
    /// Chance that a person in the extract appears once more (repeatedly).
    pub duplicate_rate: f64,
    /// Whether the partner's system records middle names.
    pub middle_names: bool,
    pub style: Style,
    pub columns: Vec<Column>,
}

impl DatasetSpec {
    /// The short name of a standard dataset, the part before the first `_`
    /// (`prison` for `prison_releases`).
    pub fn short_name(&self) -> &str {
        self.name.split('_').next().unwrap_or(&self.name)
    }

    /// The same extract with two more columns, **for benchmarks only**:
    /// `Synthetic Row` (attribute `synthetic_row`, [`AttributeValue::BenchRow`])
    /// and `Synthetic Corruptions` (attribute `synthetic_corruptions`,
    /// [`AttributeValue::BenchCorruptions`]), declared as string attributes in
    /// the partner config. They pass through linkage into `links.parquet`,
    /// which has no record reference by design, so that an accuracy
    /// benchmark can score the links against `truth.csv`. A real extract has
    /// nothing like them. The other columns are unchanged (the extra columns
    /// draw nothing from the generator).
    pub fn with_bench_columns(mut self) -> Self {
        for (header, name, value) in [
            (
                BENCH_ROW_HEADER,
                BENCH_ROW_ATTRIBUTE,
                AttributeValue::BenchRow,
            ),
            (
                BENCH_CORRUPTIONS_HEADER,
                BENCH_CORRUPTIONS_ATTRIBUTE,
                AttributeValue::BenchCorruptions,
            ),
        ] {
            self.columns.push(Column::new(
                header,
                Content::Attribute {
                    name: name.to_owned(),
                    value,
                },
            ));
        }
        self
    }

    fn has_bench_columns(&self) -> bool {
        self.columns.iter().any(|c| {
            matches!(
                c.content,
                Content::Attribute {
                    value: AttributeValue::BenchRow | AttributeValue::BenchCorruptions,
                    ..
                }
            )
        })
    }
}

/// Header and attribute name of the benchmark row column ([`DatasetSpec::with_bench_columns`]).
pub const BENCH_ROW_HEADER: &str = "Synthetic Row";
pub const BENCH_ROW_ATTRIBUTE: &str = "synthetic_row";
/// Header and attribute name of the benchmark corruptions column.
pub const BENCH_CORRUPTIONS_HEADER: &str = "Synthetic Corruptions";
pub const BENCH_CORRUPTIONS_ATTRIBUTE: &str = "synthetic_corruptions";

/// Five typical partners of a prison-leavers project, at `profile`.
///
/// | dataset | partner | coverage | numbers held | export |
/// |---|---|---|---|---|
/// | `prison_releases` | prison service | 70% | prison number 98%, PNC 92%, CRO 50% | `03/02/1980`, UTF-8, capitals |
/// | `probation_caseload` | probation service | 80% | PNC 85%, CRO 40%, NHS 35% | `03/02/1980`, UTF-8 with BOM |
/// | `police_offences` | police force | 35% (3× duplicates: repeat offences) | PNC 95%, CRO 60% | `1980-02-03 00:00:00`, `\|`-separated, capitals |
/// | `council_services` | city council | 30% | NI 70%, NHS 55% | `03-FEB-1980`, Windows-1252, CR LF, quoted |
/// | `employment_outcomes` | employment service | 25% | NI 85% | `02/03/1980` (month first) |
pub fn standard_datasets(profile: Profile) -> Vec<DatasetSpec> {
    let dup = profile.rates().get(Corruption::Duplicate);
    let choice =
        |values: &[&str]| AttributeValue::Choice(values.iter().map(|v| (*v).to_owned()).collect());
    let attr = |header: &str, name: &str, value: AttributeValue| {
        Column::new(
            header,
            Content::Attribute {
                name: name.to_owned(),
                value,
            },
        )
    };
    let national = |header: &str, id: NationalId, held: f64| {
        Column::new(header, Content::National { id, held })
    };
    let record_id = |header: &str, prefix: &str, digits: usize| {
        Column::new(
            header,
            Content::RecordId {
                prefix: prefix.to_owned(),
                digits,
            },
        )
    };
    vec![
        DatasetSpec {
            name: "prison_releases".to_owned(),
            partner: "HM Prison Service".to_owned(),
            coverage: 0.70,
            profile,
            duplicate_rate: dup,
            middle_names: true,
            style: Style {
                date_format: DateFormat::DayMonthYear,
                sex_codes: SexCodes::Letter,
                name_case: NameCase::Upper,
                number_format: NumberFormat::Compact,
                delimiter: b',',
                encoding: TextEncoding::Utf8,
                quote_all: false,
                crlf: false,
            },
            columns: vec![
                record_id("Release Ref", "R", 8),
                national("Prison No", NationalId::Prison, 0.98),
                Column::new("Surname", Content::FamilyName),
                Column::new("Forenames", Content::GivenNames),
                Column::new("Date of Birth", Content::DateOfBirth),
                Column::new("Sex", Content::Sex),
                Column::new("Release Address Postcode", Content::Postcode),
                national("PNC Number", NationalId::Pnc, 0.92),
                national("CRO Number", NationalId::Cro, 0.50),
                attr(
                    "Release Date",
                    "release_date",
                    AttributeValue::DateAfterRelease {
                        from: 0,
                        to: 0,
                        blank: 0.0,
                        month: false,
                    },
                ),
                attr(
                    "Establishment",
                    "establishment",
                    choice(&[
                        "HMP Wandsworth",
                        "HMP Wormwood Scrubs",
                        "HMP Manchester",
                        "HMP Birmingham",
                        "HMP Leeds",
                        "HMP Durham",
                        "HMP Bristol",
                        "HMP Cardiff",
                        "HMP Nottingham",
                        "HMP Liverpool",
                        "HMP Pentonville",
                        "HMP Styal",
                    ]),
                ),
                attr(
                    "Release Type",
                    "release_type",
                    choice(&["CRD", "HDC", "ARD", "PRD", "Parole", "SED"]),
                ),
                attr(
                    "Sentence Length (days)",
                    "sentence_days",
                    AttributeValue::Integer {
                        min: 14,
                        max: 2_500,
                        blank: 0.01,
                    },
                ),
            ],
        },
        DatasetSpec {
            name: "probation_caseload".to_owned(),
            partner: "Probation Service".to_owned(),
            coverage: 0.80,
            profile,
            duplicate_rate: dup,
            middle_names: true,
            style: Style {
                date_format: DateFormat::DayMonthYear,
                sex_codes: SexCodes::Word,
                name_case: NameCase::AsEntered,
                number_format: NumberFormat::Mixed,
                delimiter: b',',
                encoding: TextEncoding::Utf8Bom,
                quote_all: false,
                crlf: false,
            },
            columns: vec![
                record_id("CRN", "X", 7),
                Column::new("Forenames", Content::GivenNames),
                Column::new("Surname", Content::FamilyName),
                Column::new("DOB", Content::DateOfBirth),
                Column::new("Gender", Content::Sex),
                Column::new("Postcode", Content::Postcode),
                national("PNC", NationalId::Pnc, 0.85),
                national("CRO", NationalId::Cro, 0.40),
                national("NHS", NationalId::Nhs, 0.35),
                attr(
                    "Supervision Start",
                    "supervision_start",
                    AttributeValue::DateAfterRelease {
                        from: 0,
                        to: 3,
                        blank: 0.0,
                        month: false,
                    },
                ),
                attr(
                    "Supervision End",
                    "supervision_end",
                    AttributeValue::DateAfterRelease {
                        from: 120,
                        to: 730,
                        blank: 0.3,
                        month: false,
                    },
                ),
                attr("Recalled", "recalled", AttributeValue::Flag { yes: 0.2 }),
                attr(
                    "Pilot Participant",
                    "participant",
                    AttributeValue::Flag { yes: 0.3 },
                ),
                attr("Region", "region", AttributeValue::Region),
                Column::new(
                    "Tier",
                    Content::Unmapped(AttributeValue::Choice(
                        ["B2", "C2", "B3", "C3", "A1", "D2", "A2"]
                            .iter()
                            .map(|v| (*v).to_owned())
                            .collect(),
                    )),
                ),
            ],
        },
        DatasetSpec {
            name: "police_offences".to_owned(),
            partner: "Police force".to_owned(),
            coverage: 0.35,
            profile,
            duplicate_rate: (dup * 3.0).min(0.5),
            middle_names: true,
            style: Style {
                date_format: DateFormat::IsoDateTime,
                sex_codes: SexCodes::Letter,
                name_case: NameCase::Upper,
                number_format: NumberFormat::Grouped,
                delimiter: b'|',
                encoding: TextEncoding::Utf8,
                quote_all: false,
                crlf: false,
            },
            columns: vec![
                record_id("OCCURRENCE_NO", "OCC", 9),
                Column::new("SURNAME", Content::FamilyName),
                Column::new("FORENAMES", Content::GivenNames),
                Column::new("DOB", Content::DateOfBirth),
                Column::new("SEX", Content::Sex),
                Column::new("HOME_POSTCODE", Content::Postcode),
                national("PNC_ID", NationalId::Pnc, 0.95),
                national("CRO_NO", NationalId::Cro, 0.60),
                attr(
                    "OFFENCE_DATE",
                    "offence_date",
                    AttributeValue::DateAfterRelease {
                        from: -730,
                        to: 365,
                        blank: 0.0,
                        month: false,
                    },
                ),
                attr(
                    "OFFENCE_GROUP",
                    "offence_group",
                    choice(&[
                        "Theft",
                        "Violence against the person",
                        "Drug offences",
                        "Public order",
                        "Criminal damage",
                        "Burglary",
                        "Fraud",
                        "Robbery",
                        "Possession of weapons",
                    ]),
                ),
                attr(
                    "OUTCOME",
                    "outcome",
                    choice(&[
                        "Charged",
                        "Caution",
                        "No further action",
                        "Summons",
                        "Community resolution",
                    ]),
                ),
            ],
        },
        DatasetSpec {
            name: "council_services".to_owned(),
            partner: "City council".to_owned(),
            coverage: 0.30,
            profile,
            duplicate_rate: dup,
            middle_names: false,
            style: Style {
                date_format: DateFormat::DayMonYear,
                sex_codes: SexCodes::Digit,
                name_case: NameCase::AsEntered,
                number_format: NumberFormat::Mixed,
                delimiter: b',',
                encoding: TextEncoding::Windows1252,
                quote_all: true,
                crlf: true,
            },
            columns: vec![
                record_id("Client ID", "", 7),
                Column::new("First Name", Content::GivenNames),
                Column::new("Last Name", Content::FamilyName),
                Column::new("Date Of Birth", Content::DateOfBirth),
                Column::new("Gender", Content::Sex),
                Column::new("Post Code", Content::Postcode),
                national("NI Number", NationalId::Ni, 0.70),
                national("NHS No", NationalId::Nhs, 0.55),
                attr(
                    "Service",
                    "service",
                    choice(&[
                        "Housing support",
                        "Family support",
                        "Adult social care",
                        "Tenancy sustainment",
                        "Substance misuse",
                        "Homelessness prevention",
                    ]),
                ),
                attr(
                    "Start Date",
                    "service_start",
                    AttributeValue::DateAfterRelease {
                        from: -30,
                        to: 300,
                        blank: 0.0,
                        month: true,
                    },
                ),
                attr(
                    "End Date",
                    "service_end",
                    AttributeValue::DateAfterRelease {
                        from: 310,
                        to: 700,
                        blank: 0.4,
                        month: true,
                    },
                ),
            ],
        },
        DatasetSpec {
            name: "employment_outcomes".to_owned(),
            partner: "Employment support service".to_owned(),
            coverage: 0.25,
            profile,
            duplicate_rate: dup,
            middle_names: false,
            style: Style {
                date_format: DateFormat::MonthDayYear,
                sex_codes: SexCodes::Word,
                name_case: NameCase::AsEntered,
                number_format: NumberFormat::Mixed,
                delimiter: b',',
                encoding: TextEncoding::Utf8,
                quote_all: false,
                crlf: false,
            },
            columns: vec![
                record_id("Participant ID", "EMP-", 6),
                Column::new("Given Name", Content::GivenNames),
                Column::new("Family Name", Content::FamilyName),
                Column::new("Birth Date", Content::DateOfBirth),
                Column::new("Gender", Content::Sex),
                Column::new("Postcode", Content::Postcode),
                national("NINO", NationalId::Ni, 0.85),
                attr(
                    "Outcome",
                    "outcome",
                    choice(&[
                        "Employed",
                        "Training",
                        "Education",
                        "Not in work",
                        "Self-employed",
                    ]),
                ),
                attr(
                    "Outcome Date",
                    "outcome_date",
                    AttributeValue::DateAfterRelease {
                        from: 14,
                        to: 365,
                        blank: 0.1,
                        month: false,
                    },
                ),
                attr(
                    "Hours per Week",
                    "hours",
                    AttributeValue::Integer {
                        min: 0,
                        max: 45,
                        blank: 0.2,
                    },
                ),
            ],
        },
    ]
}

// ---------------------------------------------------------------------------
// Writing an extract.

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
    applied: [u64; Corruption::COUNT],
    opportunities: [u64; Corruption::COUNT],
}

impl ExtractStats {
    fn new(dataset: &str) -> Self {
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

    /// How many times it could have been (see the last column of [`RATE_TABLE`]).
    pub fn opportunities(&self, corruption: Corruption) -> u64 {
        self.opportunities[corruption as usize]
    }

    /// Draws a corruption at `rate`, counting the draw and the hit.
    fn roll(&mut self, rng: &mut Rng, corruption: Corruption, rate: f64) -> bool {
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
    write_extract_among(people, spec, seed, None, csv_out, truth_out)
}

/// A coverage that differs for the people of another extract: those whose
/// `members` entry is true appear with probability `coverage` instead of the
/// dataset's own. This is how an example makes a programme's participants
/// (the members) less likely to reoffend or more likely to be in work.
#[derive(Debug, Clone, Copy)]
pub struct Among<'a> {
    /// One entry per person, in the order of the people; see [`members`].
    pub members: &'a [bool],
    pub coverage: f64,
}

/// Which of `people` appear in the extract [`write_extract_among`] writes for
/// (`spec`, `seed`, `among`): the same draws, without writing anything.
pub fn members(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    among: Option<Among<'_>>,
) -> Vec<bool> {
    let mut stats = ExtractStats::new(&spec.name);
    let (order, _) = select(people, spec, seed, among, &mut stats);
    let mut out = vec![false; people.len()];
    for i in order {
        out[i as usize] = true;
    }
    out
}

/// [`write_extract`], with the coverage of the people of another extract
/// changed by `among`.
pub fn write_extract_among(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    among: Option<Among<'_>>,
    csv_out: impl Write,
    truth_out: impl Write,
) -> io::Result<ExtractStats> {
    let mut stats = ExtractStats::new(&spec.name);
    let (mut order, mut rng) = select(people, spec, seed, among, &mut stats);
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

/// Draws who appears in an extract and how many times (duplicates), in
/// people order; returns the row order and the generator, ready for the rest.
fn select(
    people: &[Person],
    spec: &DatasetSpec,
    seed: u64,
    among: Option<Among<'_>>,
    stats: &mut ExtractStats,
) -> (Vec<u32>, Rng) {
    let mut rng = Rng::new(seed ^ fnv(&spec.name).rotate_left(17));
    let mut order: Vec<u32> =
        Vec::with_capacity((people.len() as f64 * spec.coverage * 1.1) as usize);
    for (i, _) in people.iter().enumerate() {
        let coverage = match among {
            Some(a) if a.members.get(i).copied().unwrap_or(false) => a.coverage,
            _ => spec.coverage,
        };
        if !rng.chance(coverage) {
            continue;
        }
        let index = u32::try_from(i).expect("at most u32::MAX people");
        order.push(index);
        stats.people += 1;
        let mut copies = 0;
        while copies < 4 && stats.roll(&mut rng, Corruption::Duplicate, spec.duplicate_rate) {
            order.push(index);
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
        let mut row = RowMaker {
            spec,
            rates: spec.profile.rates(),
            fields: vec![String::new(); spec.columns.len()],
            draft: Draft::default(),
        };
        let mut encoded = Vec::new();
        let mut record_id = String::new();
        let bench = spec.has_bench_columns();
        for (k, &index) in self.rows.iter().enumerate() {
            touch_ahead(self.people, self.rows, k);
            let person = &self.people[index as usize];
            // Record numbers rise down the file with gaps: row k gets
            // first_id + 2k or + 2k + 1.
            let number = self.first_id + 2 * (self.first_row + k as u64) + rng.below(2);
            let applied_before = stats.applied;
            row.make(person, number, &mut rng, &mut stats, &mut record_id);
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
        let p = &people[i as usize];
        sum += p.given_names.len() + p.family_name.len() + p.postcodes.len();
        sum += usize::from(p.nhs_number.is_some()) + usize::from(p.cro_number.is_some());
        sum += p.release_date.day() as usize;
    }
    if let Some(&i) = rows.get(k + 8) {
        let p = &people[i as usize];
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
fn push_num(out: &mut String, n: u64, width: usize) {
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

/// Makes the fields of one row, reusing its buffers.
struct RowMaker<'a> {
    spec: &'a DatasetSpec,
    rates: Rates,
    fields: Vec<String>,
    draft: Draft,
}

/// The identifying fields of one record, before they are placed in columns.
#[derive(Default)]
struct Draft {
    given: String,
    family: String,
    dob: String,
    sex: String,
    postcode: String,
}

const NAME_PLACEHOLDERS: [&str; 6] = ["UNKNOWN", "Not Known", "XXX", "N/A", "ZZZ", "-"];
const POSTCODE_PLACEHOLDERS: [&str; 6] = [
    "NFA",
    "No Fixed Abode",
    "ZZ99 3VZ",
    "UNKNOWN",
    "N/A",
    "Not known",
];
const NUMBER_PLACEHOLDERS: [&str; 4] = ["N/A", "UNKNOWN", "NK", "Not recorded"];

impl RowMaker<'_> {
    /// Fills the benchmark columns of the row just made: its position and
    /// the corruptions applied since `before`.
    fn bench_fields(
        &mut self,
        position: u64,
        before: &[u64; Corruption::COUNT],
        stats: &ExtractStats,
    ) {
        for (column, field) in self.spec.columns.iter().zip(self.fields.iter_mut()) {
            match &column.content {
                Content::Attribute {
                    value: AttributeValue::BenchRow,
                    ..
                } => push_num(field, position, 1),
                Content::Attribute {
                    value: AttributeValue::BenchCorruptions,
                    ..
                } => {
                    for c in Corruption::ALL {
                        if stats.applied[c as usize] > before[c as usize] {
                            if !field.is_empty() {
                                field.push(';');
                            }
                            field.push_str(c.label());
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Makes the fields of the row of `p` with record number `number`.
    fn make(
        &mut self,
        p: &Person,
        number: u64,
        rng: &mut Rng,
        stats: &mut ExtractStats,
        record_id: &mut String,
    ) {
        let mut draft = std::mem::take(&mut self.draft);
        self.names(p, rng, stats, &mut draft);
        self.date_of_birth(p, rng, stats, &mut draft.dob);
        self.sex(p, rng, stats, &mut draft.sex);
        self.postcode(p, rng, stats, &mut draft.postcode);
        let date_format = self.spec.style.date_format;
        let mut fields = std::mem::take(&mut self.fields);
        for (column, field) in self.spec.columns.iter().zip(fields.iter_mut()) {
            field.clear();
            match &column.content {
                Content::RecordId { prefix, digits } => {
                    field.push_str(prefix);
                    push_num(field, number, *digits);
                    record_id.clear();
                    record_id.push_str(field);
                }
                Content::GivenNames => field.push_str(&draft.given),
                Content::FamilyName => field.push_str(&draft.family),
                Content::DateOfBirth => field.push_str(&draft.dob),
                Content::Sex => field.push_str(&draft.sex),
                Content::Postcode => field.push_str(&draft.postcode),
                Content::National { id, held } => self.national(p, *id, *held, field, rng, stats),
                Content::Attribute { value, .. } | Content::Unmapped(value) => {
                    attribute(p, value, date_format, field, rng)
                }
            }
        }
        self.fields = fields;
        self.draft = draft;
    }

    /// Given and family names: nickname, middle names, variants, typos,
    /// the system's letter case, swaps, blanks.
    fn names(&self, p: &Person, rng: &mut Rng, stats: &mut ExtractStats, d: &mut Draft) {
        let t = tables();
        let r = &self.rates;
        let (given, family) = (&mut d.given, &mut d.family);
        given.clear();
        let nicknames = t.nicknames_of(p.given_names[0]);
        if !nicknames.is_empty()
            && stats.roll(rng, Corruption::Nickname, r.get(Corruption::Nickname))
        {
            given.push_str(rng.pick(nicknames).as_str());
        } else {
            given.push_str(p.given_names[0]);
        }
        let separator = if rng.chance(0.01) { "  " } else { " " };
        if self.spec.middle_names {
            let middles = &p.given_names[1..];
            if !middles.is_empty() {
                let dropped = stats.roll(
                    rng,
                    Corruption::MiddleDropped,
                    r.get(Corruption::MiddleDropped),
                );
                if !dropped || !rng.chance(0.7) {
                    for middle in middles {
                        given.push_str(separator);
                        if dropped {
                            given.extend(middle.chars().take(1));
                        } else {
                            given.push_str(middle);
                        }
                    }
                }
            } else if stats.roll(rng, Corruption::MiddleAdded, r.get(Corruption::MiddleAdded)) {
                let names = t.given(p.sex);
                let mut extra = names.sample(rng);
                while extra == p.given_names[0] {
                    extra = names.sample(rng);
                }
                given.push_str(separator);
                given.push_str(extra);
            }
        }
        if has_two_letters(given)
            && stats.roll(rng, Corruption::TypoGiven, r.get(Corruption::TypoGiven))
        {
            *given = typo(given, rng);
        }
        family.clear();
        family.push_str(&p.family_name);
        if family_can_vary(family)
            && stats.roll(
                rng,
                Corruption::FamilyVariant,
                r.get(Corruption::FamilyVariant),
            )
        {
            *family = family_variant(family, rng);
        }
        if has_two_letters(family)
            && stats.roll(rng, Corruption::TypoFamily, r.get(Corruption::TypoFamily))
        {
            *family = typo(family, rng);
        }
        if family.contains(['\'', '-']) {
            *family = family_punctuation(family, rng);
        }
        let case = match self.spec.style.name_case {
            NameCase::Upper if rng.chance(0.98) => Case::Upper,
            NameCase::Upper => Case::AsIs,
            NameCase::AsEntered => match rng.below(100) {
                0..90 => Case::AsIs,
                90..97 => Case::Upper,
                _ => Case::Lower,
            },
        };
        case.apply(given);
        case.apply(family);
        if self.spec.style.name_case == NameCase::AsEntered && rng.chance(0.01) {
            let mut title = match p.sex {
                Sex::Female => (*rng.pick(&["Ms ", "Mrs ", "Miss "])).to_owned(),
                _ => "Mr ".to_owned(),
            };
            case.apply(&mut title);
            given.insert_str(0, &title);
        }
        if rng.chance(0.01) {
            given.push(' ');
        }
        if stats.roll(
            rng,
            Corruption::SwappedNames,
            r.get(Corruption::SwappedNames),
        ) {
            std::mem::swap(given, family);
        }
        self.blank(given, &NAME_PLACEHOLDERS, rng, stats);
        self.blank(family, &NAME_PLACEHOLDERS, rng, stats);
    }

    fn date_of_birth(&self, p: &Person, rng: &mut Rng, stats: &mut ExtractStats, out: &mut String) {
        let r = &self.rates;
        out.clear();
        let mut date = p.date_of_birth;
        if date.day() <= 12
            && date.day() != date.month()
            && stats.roll(
                rng,
                Corruption::DayMonthSwapped,
                r.get(Corruption::DayMonthSwapped),
            )
        {
            date = ymd(date.year(), date.day(), date.month());
        }
        if stats.roll(rng, Corruption::TypoDob, r.get(Corruption::TypoDob)) {
            date = date_typo(date, rng);
        }
        let format = self.spec.style.date_format;
        if stats.roll(rng, Corruption::Missing, r.get(Corruption::Missing)) {
            return;
        }
        if stats.roll(rng, Corruption::Placeholder, r.get(Corruption::Placeholder)) {
            match rng.below(3) {
                0 => format.write(ymd(1900, 1, 1), out),
                1 => out.push_str("UNKNOWN"),
                _ => out.push_str(match format {
                    DateFormat::Iso | DateFormat::IsoDateTime => "0000-00-00",
                    _ => "00/00/0000",
                }),
            }
            return;
        }
        if !rng.chance(0.03) {
            format.write(date, out);
            return;
        }
        let (y, m, d) = (
            date.year() as u64,
            u64::from(date.month()),
            u64::from(date.day()),
        );
        match rng.below(3) {
            0 => DateFormat::Iso.write(date, out),
            1 => {
                push_num(out, d, 1);
                out.push(' ');
                out.push_str(MONTHS[m as usize - 1]);
                out.push(' ');
                push_num(out, y, 4);
            }
            _ => {
                let (first, second) = match format.date_order() {
                    DateOrder::MonthFirst => (m, d),
                    DateOrder::DayFirst => (d, m),
                };
                push_num(out, first, 1);
                out.push('/');
                push_num(out, second, 1);
                out.push('/');
                push_num(out, y, 4);
            }
        }
    }

    fn sex(&self, p: &Person, rng: &mut Rng, stats: &mut ExtractStats, out: &mut String) {
        let r = &self.rates;
        out.clear();
        let mut male = p.sex == Sex::Male;
        if stats.roll(rng, Corruption::SexMiscoded, r.get(Corruption::SexMiscoded)) {
            male = !male;
        }
        let codes = self.spec.style.sex_codes;
        if stats.roll(rng, Corruption::Missing, r.get(Corruption::Missing)) {
            return;
        }
        if stats.roll(rng, Corruption::Placeholder, r.get(Corruption::Placeholder)) {
            let options: &[&str] = match codes {
                SexCodes::Letter => &["U", "Not Known"],
                SexCodes::Word => &["Not known", "Unknown"],
                SexCodes::Digit => &["0", "9"],
            };
            out.push_str(rng.pick::<&str>(options));
            return;
        }
        let forms: [&str; 3] = match (codes, male) {
            (SexCodes::Letter, true) => ["M", "m", "M"],
            (SexCodes::Letter, false) => ["F", "f", "F"],
            (SexCodes::Word, true) => ["Male", "male", "MALE"],
            (SexCodes::Word, false) => ["Female", "female", "FEMALE"],
            (SexCodes::Digit, true) => ["1", "1", "1"],
            (SexCodes::Digit, false) => ["2", "2", "2"],
        };
        out.push_str(match rng.below(100) {
            0..2 => forms[1],
            2..4 => forms[2],
            _ => forms[0],
        });
    }

    fn postcode(&self, p: &Person, rng: &mut Rng, stats: &mut ExtractStats, out: &mut String) {
        let r = &self.rates;
        out.clear();
        let current = p.postcodes.len() - 1;
        let mut chosen = current;
        if current > 0 && stats.roll(rng, Corruption::MovedHouse, r.get(Corruption::MovedHouse)) {
            chosen = rng.below(current as u64) as usize;
        }
        if stats.roll(rng, Corruption::Missing, r.get(Corruption::Missing)) {
            return;
        }
        if stats.roll(rng, Corruption::Placeholder, r.get(Corruption::Placeholder)) {
            out.push_str(rng.pick::<&str>(&POSTCODE_PLACEHOLDERS));
            return;
        }
        let postcode = p.postcodes[chosen];
        out.push_str(postcode.outward());
        out.push(' ');
        out.push_str(postcode.inward());
        if stats.roll(
            rng,
            Corruption::TypoPostcode,
            r.get(Corruption::TypoPostcode),
        ) {
            *out = postcode_typo(out, rng);
        }
        match rng.below(100) {
            0..6 => out.retain(|c| c != ' '),
            6..9 if self.spec.style.name_case != NameCase::Upper => out.make_ascii_lowercase(),
            9..12 => {
                let space = out.find(' ').unwrap_or(out.len());
                out.insert(space, ' ');
            }
            _ => {}
        }
    }

    /// Blanks a field, or puts a placeholder in it, at the profile's rates.
    fn blank(
        &self,
        field: &mut String,
        placeholders: &[&str],
        rng: &mut Rng,
        stats: &mut ExtractStats,
    ) {
        let r = &self.rates;
        if stats.roll(rng, Corruption::Missing, r.get(Corruption::Missing)) {
            field.clear();
        } else if stats.roll(rng, Corruption::Placeholder, r.get(Corruption::Placeholder)) {
            field.clear();
            field.push_str(rng.pick::<&str>(placeholders));
        }
    }

    fn national(
        &self,
        p: &Person,
        id: NationalId,
        held: f64,
        out: &mut String,
        rng: &mut Rng,
        stats: &mut ExtractStats,
    ) {
        let r = &self.rates;
        let has = match id {
            NationalId::Nhs => p.nhs_number.is_some(),
            NationalId::Ni => p.ni_number.is_some(),
            NationalId::Pnc => p.pnc_id.is_some(),
            NationalId::Cro => p.cro_number.is_some(),
            NationalId::Prison => p.prison_number.is_some(),
        };
        if !has || !rng.chance(held) {
            return;
        }
        if stats.roll(
            rng,
            Corruption::MissingNumber,
            r.get(Corruption::MissingNumber),
        ) {
            return;
        }
        if stats.roll(rng, Corruption::Placeholder, r.get(Corruption::Placeholder)) {
            let placeholder = if id == NationalId::Nhs && rng.chance(0.5) {
                "0000000000"
            } else {
                rng.pick(&NUMBER_PLACEHOLDERS)
            };
            out.push_str(placeholder);
            return;
        }
        write_number(p, id, self.spec.style.number_format, out, rng);
        if stats.roll(rng, Corruption::TypoNumber, r.get(Corruption::TypoNumber)) {
            number_typo(out, rng);
        }
    }
}

/// A per-row choice of letter case for the names.
#[derive(Clone, Copy)]
enum Case {
    AsIs,
    Upper,
    Lower,
}

impl Case {
    fn apply(self, text: &mut String) {
        match self {
            Case::AsIs => {}
            Case::Upper if text.is_ascii() => text.make_ascii_uppercase(),
            Case::Upper => *text = text.to_uppercase(),
            Case::Lower if text.is_ascii() => text.make_ascii_lowercase(),
            Case::Lower => *text = text.to_lowercase(),
        }
    }
}

/// Writes a national number in one of the forms the format allows.
fn write_number(p: &Person, id: NationalId, format: NumberFormat, out: &mut String, rng: &mut Rng) {
    let mixed = format == NumberFormat::Mixed;
    let roll = if mixed { rng.below(100) } else { 0 };
    let grouped = match format {
        NumberFormat::Compact => false,
        NumberFormat::Grouped => true,
        NumberFormat::Mixed => roll < 50,
    };
    let start = out.len();
    match id {
        NationalId::Nhs => {
            let NhsNumber(n) = p.nhs_number.expect("checked by the caller");
            push_num(out, n, 10);
            match (grouped, roll) {
                (true, _) => {
                    out.insert(start + 6, ' ');
                    out.insert(start + 3, ' ');
                }
                (false, 0..80) => {}
                (false, 80..92) => {
                    out.insert(start + 6, '-');
                    out.insert(start + 3, '-');
                }
                (false, _) => out.push_str(".0"),
            }
        }
        NationalId::Ni => {
            let ni = p.ni_number.expect("checked by the caller");
            let mut full = [0u8; 9];
            full[..2].copy_from_slice(&ni.prefix);
            let mut digits = ni.digits;
            for slot in full[2..8].iter_mut().rev() {
                *slot = b'0' + (digits % 10) as u8;
                digits /= 10;
            }
            full[8] = ni.suffix;
            let full = std::str::from_utf8(&full).expect("NI numbers are ASCII");
            match (grouped, roll) {
                (true, _) => {
                    for (i, part) in [
                        &full[..2],
                        &full[2..4],
                        &full[4..6],
                        &full[6..8],
                        &full[8..],
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        if i > 0 {
                            out.push(' ');
                        }
                        out.push_str(part);
                    }
                }
                (false, 0..80) => out.push_str(full),
                (false, 80..90) => out.push_str(&full[..8]),
                (false, _) => {
                    out.push_str(full);
                    out.make_ascii_lowercase();
                }
            }
        }
        NationalId::Pnc => {
            let pnc = p.pnc_id.expect("checked by the caller");
            match (grouped, roll) {
                (true, _) => push_num(out, u64::from(pnc.year), 4),
                _ => push_num(out, u64::from(pnc.year % 100), 2),
            }
            out.push('/');
            let width = if !grouped && roll >= 75 { 1 } else { 7 };
            push_num(out, u64::from(pnc.serial), width);
            out.push(pnc.check());
        }
        NationalId::Cro => {
            let cro = p.cro_number.expect("checked by the caller");
            match cro {
                CroNumber::Standard { serial, year } => {
                    let width = if grouped || roll >= 80 { 1 } else { 6 };
                    push_num(out, u64::from(serial), width);
                    out.push('/');
                    push_num(out, u64::from(year % 100), 2);
                }
                CroNumber::Sf { year, serial } => {
                    out.push_str("SF");
                    push_num(out, u64::from(year % 100), 2);
                    out.push('/');
                    push_num(out, u64::from(serial), 1);
                }
            }
            out.push(cro.check());
        }
        NationalId::Prison => {
            let PrisonNumber(number) = p.prison_number.expect("checked by the caller");
            out.push_str(std::str::from_utf8(&number).expect("prison numbers are ASCII"));
            if mixed && roll >= 95 {
                out.make_ascii_lowercase();
            }
        }
    }
}

/// Writes an attribute value.
fn attribute(
    p: &Person,
    value: &AttributeValue,
    format: DateFormat,
    out: &mut String,
    rng: &mut Rng,
) {
    match value {
        AttributeValue::DateAfterRelease {
            from, to, blank, ..
        } => {
            if rng.chance(*blank) {
                return;
            }
            let offset = from + rng.below((to - from + 1).max(1) as u64) as i64;
            let date = if offset >= 0 {
                p.release_date + Days::new(offset as u64)
            } else {
                p.release_date - Days::new(offset.unsigned_abs())
            };
            format.write(date, out);
        }
        AttributeValue::Choice(values) => {
            let n = values.len() as u64;
            if n > 0 {
                out.push_str(&values[rng.below(n).min(rng.below(n)) as usize]);
            }
        }
        AttributeValue::Integer { min, max, blank } => {
            if !rng.chance(*blank) {
                let value = min + rng.below((max - min + 1).max(1) as u64) as i64;
                if value < 0 {
                    out.push('-');
                }
                push_num(out, value.unsigned_abs(), 1);
            }
        }
        AttributeValue::Flag { yes } => out.push(if rng.chance(*yes) { 'Y' } else { 'N' }),
        AttributeValue::Region => out.push_str(p.postcode().region()),
        AttributeValue::AgeAtRelease => push_num(out, u64::from(age_on(p, p.release_date)), 1),
        AttributeValue::Gender => out.push_str(match p.sex {
            Sex::Female => "Female",
            _ => "Male",
        }),
        // Filled in by `ChunkJob::make` once the row is made.
        AttributeValue::BenchRow | AttributeValue::BenchCorruptions => {}
    }
}

// ---------------------------------------------------------------------------
// Corruptions.

fn has_two_letters(text: &str) -> bool {
    text.bytes()
        .filter(u8::is_ascii_alphabetic)
        .nth(1)
        .is_some()
}

/// QWERTY neighbours of each letter.
const KEYBOARD: [&str; 26] = [
    "qwsz", "vghn", "xdfv", "erfcxs", "wrsd", "rtgvcd", "tyhbvf", "yujnbg", "ujko", "uikmnh",
    "iolmj", "opk", "njk", "bhjm", "iplk", "ol", "wa", "etfd", "weadzx", "ryhgf", "yihj", "cfgb",
    "qeas", "zsdc", "tuhg", "asx",
];

fn neighbour(c: u8, rng: &mut Rng) -> u8 {
    let lower = c.to_ascii_lowercase();
    if lower.is_ascii_lowercase() {
        *rng.pick(KEYBOARD[(lower - b'a') as usize].as_bytes())
    } else {
        b'a' + rng.below(26) as u8
    }
}

/// `letter` in the case of `like`.
fn case_like(like: char, letter: u8) -> char {
    if like.is_ascii_uppercase() {
        char::from(letter.to_ascii_uppercase())
    } else {
        char::from(letter.to_ascii_lowercase())
    }
}

/// One typo in a name: substitution, insertion, deletion, adjacent
/// transposition or a keyboard neighbour, mostly after the first letter.
fn typo(text: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphabetic())
        .collect();
    let k = if rng.chance(0.15) {
        0
    } else {
        1 + rng.below(letters.len() as u64 - 1) as usize
    };
    let at = letters[k];
    let c = chars[at];
    let lower = c.to_ascii_lowercase() as u8;
    let substitute = |rng: &mut Rng| {
        let mut x = b'a' + rng.below(26) as u8;
        while x == lower {
            x = b'a' + rng.below(26) as u8;
        }
        x
    };
    let all_upper = letters.iter().all(|&i| chars[i].is_ascii_uppercase());
    match rng.below(5) {
        0 => chars[at] = case_like(c, substitute(rng)),
        1 => {
            let x = if rng.chance(0.5) {
                lower
            } else {
                neighbour(lower, rng)
            };
            let like = if all_upper { 'A' } else { 'a' };
            chars.insert(at + 1, case_like(like, x));
        }
        2 if letters.len() >= 3 => {
            chars.remove(at);
        }
        3 if k + 1 < letters.len()
            && letters[k + 1] == at + 1
            && !chars[at + 1].eq_ignore_ascii_case(&c) =>
        {
            let next = chars[at + 1];
            chars[at] = case_like(c, next as u8);
            chars[at + 1] = case_like(next, c as u8);
        }
        _ => {
            let mut x = neighbour(lower, rng);
            if x == lower {
                x = substitute(rng);
            }
            chars[at] = case_like(c, x);
        }
    }
    chars.into_iter().collect()
}

/// Whether a family name has a variant: double-barrelled, `Mc`/`Mac`, or several words.
fn family_can_vary(name: &str) -> bool {
    name.contains(['-', ' ']) || mac_rest(name).is_some()
}

/// For `McDonald` or `MacDonald`: (`Mc` or `Mac`, `Donald`).
fn mac_rest(name: &str) -> Option<(&str, &str)> {
    for prefix in ["Mac", "Mc"] {
        if let Some(rest) = name.strip_prefix(prefix)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
        {
            return Some((prefix, rest));
        }
    }
    None
}

fn family_variant(name: &str, rng: &mut Rng) -> String {
    if let Some((a, b)) = name.split_once('-') {
        return match rng.below(5) {
            0 | 1 => a.to_owned(),
            2 | 3 => b.to_owned(),
            _ => format!("{b}-{a}"),
        };
    }
    if let Some((prefix, rest)) = mac_rest(name) {
        let other = if prefix == "Mc" { "Mac" } else { "Mc" };
        return format!("{other}{rest}");
    }
    name.rsplit(' ').next().unwrap_or(name).to_owned()
}

/// Apostrophes, hyphens and spaces as different systems keep them; all
/// normalise alike (`O'Brien`, `O’Brien`, `OBrien`, `O Brien`).
fn family_punctuation(name: &str, rng: &mut Rng) -> String {
    if !name.contains(['\'', '-']) {
        return name.to_owned();
    }
    let apostrophe = match rng.below(100) {
        0..80 => "'",
        80..88 => "\u{2019}",
        88..95 => "",
        _ => " ",
    };
    let hyphen = match rng.below(100) {
        0..85 => "-",
        85..95 => " ",
        _ => " - ",
    };
    name.replace('\'', apostrophe).replace('-', hyphen)
}

/// One digit of a date of birth wrong, giving another real date.
fn date_typo(date: NaiveDate, rng: &mut Rng) -> NaiveDate {
    let (y, m, d) = (date.year(), date.month(), date.day());
    for _ in 0..32 {
        let digit = rng.below(10) as u32;
        let candidate = match rng.below(5) {
            0 => NaiveDate::from_ymd_opt(y, m, d / 10 * 10 + digit),
            1 => NaiveDate::from_ymd_opt(y, m, (digit % 4) * 10 + d % 10),
            2 => NaiveDate::from_ymd_opt(y, m / 10 * 10 + digit, d),
            3 => NaiveDate::from_ymd_opt(y / 10 * 10 + digit as i32, m, d),
            _ => NaiveDate::from_ymd_opt(y / 100 * 100 + digit as i32 * 10 + y % 10, m, d),
        };
        if let Some(c) =
            candidate.filter(|c| *c != date && (1920..=RELEASE_YEAR).contains(&c.year()))
        {
            return c;
        }
    }
    date + Days::new(1)
}

/// One character of a postcode wrong: a digit for a digit, a letter for a
/// neighbouring key.
fn postcode_typo(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let positions: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != b' ').collect();
    let at = *rng.pick(&positions);
    let b = bytes[at];
    bytes[at] = if b.is_ascii_digit() {
        b'0' + ((b - b'0') as u64 + 1 + rng.below(9)) as u8 % 10
    } else {
        neighbour(b, rng).to_ascii_uppercase()
    };
    String::from_utf8(bytes).expect("postcodes are ASCII")
}

/// One digit of a written number changed.
fn number_typo(text: &mut String, rng: &mut Rng) {
    let digits: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| b.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if digits.is_empty() {
        return;
    }
    let at = *rng.pick(&digits);
    let old = text.as_bytes()[at] - b'0';
    let new = (old + 1 + rng.below(9) as u8) % 10;
    text.replace_range(at..=at, &char::from(b'0' + new).to_string());
}

// ---------------------------------------------------------------------------
// The partner config.

/// The `partner.toml` with which `pprl-client tokenise` reads the extract
/// of `spec`: its format, encoding and date order, every identifier column,
/// and every attribute column with its type.
pub fn partner_config(spec: &DatasetSpec) -> String {
    let style = &spec.style;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Partner configuration for {} ({}), written by pprl-generate.\n\
         # Synthetic data: the people in the extract do not exist.\n",
        spec.name, spec.partner
    );
    let _ = writeln!(out, "dataset = {}\n", toml_string(&spec.name));
    let delimiter = char::from(style.delimiter).to_string();
    let encoding = match style.encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => "utf-8",
        TextEncoding::Windows1252 => "windows-1252",
    };
    let date_order = match style.date_format.date_order() {
        DateOrder::DayFirst => "day-first",
        DateOrder::MonthFirst => "month-first",
    };
    let _ = writeln!(
        out,
        "[input]\nformat = \"csv\"\ndelimiter = {}\nencoding = {}\n# Dates are written {}.\ndate_order = {}\n",
        toml_string(&delimiter),
        toml_string(encoding),
        style.date_format.strftime(),
        toml_string(date_order),
    );
    out.push_str("[identifiers]\n");
    for column in &spec.columns {
        let kind = match column.content {
            Content::RecordId { .. } => IdentifierKind::RecordId,
            Content::GivenNames => IdentifierKind::GivenNames,
            Content::FamilyName => IdentifierKind::FamilyName,
            Content::DateOfBirth => IdentifierKind::DateOfBirth,
            Content::Sex => IdentifierKind::Sex,
            Content::Postcode => IdentifierKind::Postcode,
            Content::National { id, .. } => id.kind(),
            Content::Attribute { .. } | Content::Unmapped(_) => continue,
        };
        let _ = writeln!(out, "{} = {}", kind.name(), toml_string(&column.header));
    }
    for column in &spec.columns {
        let Content::Attribute { name, value } = &column.content else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n[[attributes]]\nname = {}\ncolumn = {}\ntype = {}",
            toml_string(name),
            toml_string(&column.header),
            toml_string(value.config_type())
        );
        if let AttributeValue::DateAfterRelease { month: true, .. } = value {
            out.push_str("precision = \"month\"\n");
        }
    }
    out
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use pprl_specs::normalise::{self, Field, nickname_root};

    use super::*;

    /// One extract and its truth, as text.
    struct Written {
        spec: DatasetSpec,
        stats: ExtractStats,
        csv: Vec<u8>,
        truth: Vec<u8>,
    }

    fn write(people: &[Person], spec: &DatasetSpec, seed: u64) -> Written {
        let (mut csv, mut truth) = (Vec::new(), Vec::new());
        let stats =
            write_extract(people, spec, seed, &mut csv, &mut truth).expect("writes to memory");
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
                        (counts.present + counts.missing + counts.invalid + counts.placeholder)
                            as f64;
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
}
