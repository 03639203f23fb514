//! The five standard partners' extracts ([`standard_datasets`]).

use super::dataset::{
    AttributeValue, Column, Content, DatasetSpec, DateFormat, NameCase, NationalId, NumberFormat,
    SexCodes, Style, TextEncoding,
};
use super::profile::{Corruption, Profile};

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
