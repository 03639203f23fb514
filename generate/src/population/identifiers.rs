//! The people's identifiers: postcodes and national numbers with valid check
//! characters, and the allocator that keeps national numbers unique.

use std::fmt;

use chrono::Datelike;
use pprl_specs::normalise::national::cro_sf_check_letter;
use pprl_specs::normalise::{cro_check_letter, nhs_check_digit, pnc_check_letter};

use crate::rng::Rng;

use super::people::{Person, RELEASE_YEAR};
use super::tables::tables;

/// A UK postcode of the population: a real outward code, a random inward code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Postcode {
    pub(super) outward: u16,
    pub(super) inward: [u8; 3],
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
pub(super) struct NumberAllocator {
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
    pub(super) fn new(key: u64) -> Self {
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
    pub(super) fn assign(&mut self, p: &mut Person, rng: &mut Rng) {
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
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
