//! The `partner.toml` with which the client reads an extract ([`partner_config`]).

use std::fmt::Write as _;

use pprl_specs::normalise::DateOrder;
use pprl_specs::record::IdentifierKind;

use super::dataset::{AttributeValue, Content, DatasetSpec, TextEncoding};

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
