//! A record's identifiers, raw and normalised (spec §4).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::normalise::{
    self, DateOrder, Field, FieldState, GivenNames, Postcode, PostcodeFormat, Sex, date_of_birth,
    family_name, given_names,
};

/// The kinds of identifier a partner's configuration can map a column to.
///
/// The names are wire-stable: they appear in configurations and manifests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// The partner's own record number; keyed into the record reference.
    RecordId,
    GivenNames,
    FamilyName,
    DateOfBirth,
    Sex,
    Postcode,
    NhsNumber,
    NiNumber,
    PncId,
    CroNumber,
    PrisonNumber,
}

impl IdentifierKind {
    /// Every kind, in spec order.
    pub const ALL: [IdentifierKind; 11] = [
        IdentifierKind::RecordId,
        IdentifierKind::GivenNames,
        IdentifierKind::FamilyName,
        IdentifierKind::DateOfBirth,
        IdentifierKind::Sex,
        IdentifierKind::Postcode,
        IdentifierKind::NhsNumber,
        IdentifierKind::NiNumber,
        IdentifierKind::PncId,
        IdentifierKind::CroNumber,
        IdentifierKind::PrisonNumber,
    ];

    /// The configuration name of this kind.
    pub fn name(self) -> &'static str {
        match self {
            IdentifierKind::RecordId => "record_id",
            IdentifierKind::GivenNames => "given_names",
            IdentifierKind::FamilyName => "family_name",
            IdentifierKind::DateOfBirth => "date_of_birth",
            IdentifierKind::Sex => "sex",
            IdentifierKind::Postcode => "postcode",
            IdentifierKind::NhsNumber => "nhs_number",
            IdentifierKind::NiNumber => "ni_number",
            IdentifierKind::PncId => "pnc_id",
            IdentifierKind::CroNumber => "cro_number",
            IdentifierKind::PrisonNumber => "prison_number",
        }
    }
}

/// The raw text of each identifier of one record, as the extract holds it.
#[derive(Default, Clone, Copy)]
pub struct RawRecord<'a> {
    pub given_names: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub date_of_birth: Option<&'a str>,
    pub sex: Option<&'a str>,
    pub postcode: Option<&'a str>,
    pub nhs_number: Option<&'a str>,
    pub ni_number: Option<&'a str>,
    pub pnc_id: Option<&'a str>,
    pub cro_number: Option<&'a str>,
    pub prison_number: Option<&'a str>,
}

impl std::fmt::Debug for RawRecord<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawRecord(<redacted>)")
    }
}

/// How dates in an extract are read, and the day they are checked against.
#[derive(Debug, Clone, Copy)]
pub struct NormaliseOptions {
    /// How to read ambiguous numeric dates such as 03/02/1980.
    pub date_order: DateOrder,
    /// Dates of birth after this day are invalid. Passed in: the core has no clock.
    pub as_of: NaiveDate,
    /// Which postcodes the extract holds.
    pub postcode_format: PostcodeFormat,
}

/// A record's identifiers in canonical form. Wiped when dropped.
pub struct NormalisedRecord {
    pub given_names: Field<GivenNames>,
    pub family_name: Field<String>,
    pub date_of_birth: Field<NaiveDate>,
    pub sex: Field<Sex>,
    pub postcode: Field<Postcode>,
    pub nhs_number: Field<String>,
    pub ni_number: Field<String>,
    pub pnc_id: Field<String>,
    pub cro_number: Field<String>,
    pub prison_number: Field<String>,
}

impl NormalisedRecord {
    /// Normalises every identifier of a raw record.
    pub fn from_raw(raw: &RawRecord<'_>, options: &NormaliseOptions) -> Self {
        fn field<T>(value: Option<&str>, f: impl FnOnce(&str) -> Field<T>) -> Field<T> {
            value.map_or(Field::Missing, f)
        }
        NormalisedRecord {
            given_names: field(raw.given_names, given_names),
            family_name: field(raw.family_name, family_name),
            date_of_birth: field(raw.date_of_birth, |v| {
                date_of_birth(v, options.date_order, options.as_of)
            }),
            sex: field(raw.sex, normalise::sex),
            postcode: field(raw.postcode, |v| {
                normalise::postcode_as(v, options.postcode_format)
            }),
            nhs_number: field(raw.nhs_number, normalise::nhs_number),
            ni_number: field(raw.ni_number, normalise::ni_number),
            pnc_id: field(raw.pnc_id, normalise::pnc_id),
            cro_number: field(raw.cro_number, normalise::cro_number),
            prison_number: field(raw.prison_number, normalise::prison_number),
        }
    }

    /// The state of each identifier field, for quality counts (record id excluded).
    pub fn states(&self) -> [(IdentifierKind, FieldState); 10] {
        [
            (IdentifierKind::GivenNames, self.given_names.state()),
            (IdentifierKind::FamilyName, self.family_name.state()),
            (IdentifierKind::DateOfBirth, self.date_of_birth.state()),
            (IdentifierKind::Sex, self.sex.state()),
            (IdentifierKind::Postcode, self.postcode.state()),
            (IdentifierKind::NhsNumber, self.nhs_number.state()),
            (IdentifierKind::NiNumber, self.ni_number.state()),
            (IdentifierKind::PncId, self.pnc_id.state()),
            (IdentifierKind::CroNumber, self.cro_number.state()),
            (IdentifierKind::PrisonNumber, self.prison_number.state()),
        ]
    }
}

impl Drop for NormalisedRecord {
    fn drop(&mut self) {
        // GivenNames and Postcode wipe themselves; the plain strings are wiped here.
        for field in [
            &mut self.family_name,
            &mut self.nhs_number,
            &mut self.ni_number,
            &mut self.pnc_id,
            &mut self.cro_number,
            &mut self.prison_number,
        ] {
            if let Field::Present(value) = field {
                value.zeroize();
            }
        }
    }
}

impl std::fmt::Debug for NormalisedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NormalisedRecord(<redacted>)")
    }
}
