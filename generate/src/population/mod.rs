//! A seeded synthetic population of prison leavers, and their records in
//! several partners' extracts with realistic corruption.
//!
//! [`people()`] makes the people: UK names with skewed frequencies (a few names
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
//! [`crate::Rng`] (SplitMix64) and no floating-point function that
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

mod corrupt;
mod dataset;
mod extract;
mod identifiers;
mod partner;
mod people;
mod profile;
mod row;
mod standard;
mod tables;
#[cfg(test)]
mod tests;

pub use dataset::{
    AttributeValue, BENCH_CORRUPTIONS_ATTRIBUTE, BENCH_CORRUPTIONS_HEADER, BENCH_ROW_ATTRIBUTE,
    BENCH_ROW_HEADER, Column, Content, DatasetSpec, DateFormat, NameCase, NationalId, NumberFormat,
    SexCodes, Style, TextEncoding,
};
pub use extract::{
    AltDates, Draw, ExtractStats, TRUTH_HEADER, members, write_extract, write_extract_drawn,
};
pub use identifiers::{CroNumber, NhsNumber, NiNumber, PncId, Postcode, PrisonNumber};
pub use partner::partner_config;
pub use people::{Person, PersonId, Relation, UnknownRegion, age_on, people, people_in};
pub use profile::{Corruption, Profile, RATE_TABLE, Rates, UnknownProfile};
pub use standard::standard_datasets;
