//! Normalisation of identifiers (spec §4).
//!
//! Every normaliser takes the raw text of one field, as a partner's extract
//! holds it, and returns a [`Field`]: the canonical form, or the reason it
//! could not be used. Canonical forms use only `A`–`Z`, `0`–`9`, space and
//! `/`, so they never contain the separators used to build match keys.
//!
//! Errors never echo the input value: they are counted and reported, and a
//! report must not become a way to leak identifiers.

pub mod date;
pub mod name;
pub mod national;
pub mod phonetic;
pub mod postcode;
pub mod sex;

pub use date::{DateOrder, date_of_birth};
pub use name::{GivenNames, family_name, given_names, nickname_root};
pub use national::{
    cro_check_letter, cro_number, nhs_check_digit, nhs_number, ni_number, pnc_check_letter, pnc_id,
    prison_number,
};
pub use phonetic::{soundex, soundex_code};
pub use postcode::{Postcode, PostcodeFormat, postcode, postcode_as};
pub use sex::{Sex, sex};

/// The result of normalising one field.
#[derive(Clone, PartialEq, Eq)]
pub enum Field<T> {
    /// A usable canonical value.
    Present(T),
    /// The field was empty or blank.
    Missing,
    /// A known placeholder ("UNKNOWN", 01/01/1900, all-zero numbers): counted
    /// separately from [`Field::Missing`] and treated as missing everywhere else.
    Placeholder,
    /// The value fails validation; the reason names the rule, never the value.
    Invalid(Invalid),
}

/// Why a value was refused. Carries a fixed reason, never the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

impl<T> Field<T> {
    /// The canonical value, if present.
    pub fn present(&self) -> Option<&T> {
        match self {
            Field::Present(v) => Some(v),
            _ => None,
        }
    }

    /// Converts to an `Option`, dropping the reason.
    pub fn into_present(self) -> Option<T> {
        match self {
            Field::Present(v) => Some(v),
            _ => None,
        }
    }

    /// Applies `f` to a present value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Present(v) => Field::Present(f(v)),
            Field::Missing => Field::Missing,
            Field::Placeholder => Field::Placeholder,
            Field::Invalid(r) => Field::Invalid(r),
        }
    }

    /// The field's state as a label for quality counts.
    pub fn state(&self) -> FieldState {
        match self {
            Field::Present(_) => FieldState::Present,
            Field::Missing => FieldState::Missing,
            Field::Placeholder => FieldState::Placeholder,
            Field::Invalid(_) => FieldState::Invalid,
        }
    }
}

/// Values are plaintext identifiers: `Debug` shows the state, never the value.
impl<T> std::fmt::Debug for Field<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Present(_) => f.write_str("Present(<redacted>)"),
            Field::Missing => f.write_str("Missing"),
            Field::Placeholder => f.write_str("Placeholder"),
            Field::Invalid(r) => write!(f, "Invalid({})", r.0),
        }
    }
}

/// The state of a field, without its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldState {
    Present,
    Missing,
    Placeholder,
    Invalid,
}

/// Trims the value and reports whether it is blank.
pub(crate) fn trimmed(raw: &str) -> Option<&str> {
    let t = raw.trim();
    (!t.is_empty()).then_some(t)
}
