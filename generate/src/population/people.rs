//! The people: [`Person`] (the truth behind every record about them),
//! [`people`] and [`people_in`], strangers and relatives (the hard negatives).

use std::fmt;

use chrono::{Datelike, Days, NaiveDate};
use pprl_specs::normalise::Sex;

use crate::rng::Rng;

use super::dataset::NationalId;
use super::identifiers::{
    CroNumber, NhsNumber, NiNumber, NumberAllocator, PncId, Postcode, PrisonNumber,
};
use super::tables::tables;

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
pub(super) const RELEASE_YEAR: i32 = 2024;
/// Earliest and latest year of birth.
pub(super) const BIRTH_YEARS: (i32, i32) = (1950, 2006);

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
pub fn people_in(seed: u64, n: usize, region: Option<&str>) -> Result<Vec<Person>, UnknownRegion> {
    let Some(region) = region else {
        return Ok(people(seed, n));
    };
    if !tables().outward.iter().any(|o| o.region == region) {
        let mut known: Vec<&'static str> = tables().outward.iter().map(|o| o.region).collect();
        known.sort_unstable();
        known.dedup();
        return Err(UnknownRegion {
            region: region.to_owned(),
            known,
        });
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

/// A region that is not one of the population's ([`people_in`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region `{region}`; the regions are: {}", known.join(", "))]
pub struct UnknownRegion {
    pub region: String,
    /// The population's regions, sorted.
    pub known: Vec<&'static str>,
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

pub(super) fn random_day_of(year: i32, rng: &mut Rng) -> NaiveDate {
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

pub(super) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}
