//! One row of an extract: the person's fields in the export's formats, with
//! the profile's corruptions applied.

use chrono::{Datelike, Days};
use pprl_specs::normalise::{DateOrder, Sex};

use crate::rng::Rng;

use super::corrupt::{
    date_typo, family_can_vary, family_punctuation, family_variant, has_two_letters, number_typo,
    postcode_typo, typo,
};
use super::dataset::{
    AttributeValue, Content, DatasetSpec, DateFormat, MONTHS, NameCase, NationalId, NumberFormat,
    SexCodes,
};
use super::extract::{AltDates, ExtractStats, push_num};
use super::identifiers::{CroNumber, NhsNumber, PrisonNumber};
use super::people::{Person, age_on, ymd};
use super::profile::{Corruption, Rates};
use super::tables::tables;

/// Makes the fields of one row, reusing its buffers.
pub(super) struct RowMaker<'a> {
    spec: &'a DatasetSpec,
    rates: Rates,
    pub(super) fields: Vec<String>,
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
    pub(super) fn new(spec: &DatasetSpec) -> RowMaker<'_> {
        RowMaker {
            spec,
            rates: spec.profile.rates(),
            fields: vec![String::new(); spec.columns.len()],
            draft: Draft::default(),
        }
    }

    /// Fills the benchmark columns of the row just made: its position and
    /// the corruptions applied since `before`.
    pub(super) fn bench_fields(
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

    /// Makes the fields of the row of `p` (the person at `index` in the
    /// people) with record number `number`, the `alt` column, when given,
    /// dated in its range.
    #[expect(
        clippy::too_many_arguments,
        reason = "one row's inputs and its three outputs, called from one place"
    )]
    pub(super) fn make(
        &mut self,
        p: &Person,
        index: usize,
        alt: Option<AltDates>,
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
        for (at, (column, field)) in self.spec.columns.iter().zip(fields.iter_mut()).enumerate() {
            field.clear();
            match &column.content {
                Content::Attribute {
                    value: AttributeValue::DateAfterRelease { .. },
                    ..
                } if alt.is_some_and(|a| a.column == at) => {
                    let alt = alt.expect("matched just above");
                    date_after_release(p, alt.from, alt.to, date_format, field, rng);
                }
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
                    attribute(p, index, value, date_format, field, rng)
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
    index: usize,
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
            date_after_release(p, *from, *to, format, out, rng);
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
        AttributeValue::Covariate { values, .. } => {
            if let Some(value) = values.get(index) {
                out.push_str(value);
            }
        }
        // Filled in by `ChunkJob::make` once the row is made.
        AttributeValue::BenchRow | AttributeValue::BenchCorruptions => {}
    }
}

/// A date `from..=to` days after `p`'s release, in `format`.
fn date_after_release(
    p: &Person,
    from: i64,
    to: i64,
    format: DateFormat,
    out: &mut String,
    rng: &mut Rng,
) {
    let offset = from + rng.below((to - from + 1).max(1) as u64) as i64;
    let date = if offset >= 0 {
        p.release_date + Days::new(offset as u64)
    } else {
        p.release_date - Days::new(offset.unsigned_abs())
    };
    format.write(date, out);
}
