//! What a partner's extract looks like: [`DatasetSpec`] (who appears, how
//! messy, the columns), its [`Style`] of export and each [`Column`]'s [`Content`].

use chrono::{Datelike, NaiveDate};
use pprl_specs::normalise::DateOrder;
use pprl_specs::record::IdentifierKind;

use super::extract::push_num;
use super::profile::Profile;

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

    pub(super) fn write(self, date: NaiveDate, out: &mut String) {
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

pub(super) const MONTHS: [&str; 12] = [
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
    /// one (before [`Corruption::MissingNumber`](super::Corruption::MissingNumber)).
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
    /// A person-level covariate of a scenario (`kind = "covariate"`): the
    /// same value in every row of the person, one text per person in the
    /// order of the people (filled in by the scenario before it writes;
    /// empty: the column is left blank). `config_type` is the attribute
    /// type in the partner config.
    Covariate {
        name: String,
        config_type: &'static str,
        values: std::sync::Arc<[String]>,
    },
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
    pub(super) fn config_type(&self) -> &'static str {
        match self {
            AttributeValue::DateAfterRelease { .. } => "date",
            AttributeValue::Choice(_)
            | AttributeValue::Region
            | AttributeValue::Gender
            | AttributeValue::BenchRow
            | AttributeValue::BenchCorruptions => "string",
            AttributeValue::Integer { .. } | AttributeValue::AgeAtRelease => "integer",
            AttributeValue::Flag { .. } => "boolean",
            AttributeValue::Covariate { config_type, .. } => config_type,
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

    pub(super) fn has_bench_columns(&self) -> bool {
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
