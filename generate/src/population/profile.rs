//! How messy the extracts are: the [`Profile`]s and the rates of each
//! [`Corruption`] ([`RATE_TABLE`]).

use std::fmt;
use std::str::FromStr;

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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile `{0}`: use clean, typical or heavy")]
pub struct UnknownProfile(pub String);

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
/// dataset ([`Content::National`](super::Content::National)), not of the profile.
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
