//! The line format shared by deletion lists (§5.5) and re-key maps
//! (§10.6): UTF-8 text, a header line, `name value` fields, then one entry
//! per line.

/// The lines of a list file, without their `\r`, or the 1-based line on
/// which the bytes stop being UTF-8.
pub(crate) fn lines(bytes: &[u8]) -> Result<impl Iterator<Item = &str>, usize> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    })?;
    Ok(text.lines().map(|l| l.trim_end_matches('\r')))
}

/// The value of a `name value` line, if the line is that field and the
/// value is not empty.
pub(crate) fn field(line: Option<&str>, name: &str) -> Option<String> {
    line.and_then(|l| l.trim().strip_prefix(name))
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(|rest| rest.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_where_the_text_stops_being_utf8() {
        assert_eq!(lines(b"a\nb\n\xff").err(), Some(3));
        let got: Vec<&str> = lines(b"a\r\nb").unwrap().collect();
        assert_eq!(got, ["a", "b"]);
    }

    #[test]
    fn a_field_needs_its_name_a_separator_and_a_value() {
        assert_eq!(field(Some("dataset  x "), "dataset").as_deref(), Some("x"));
        assert_eq!(field(Some("datasetx"), "dataset"), None);
        assert_eq!(field(Some("dataset "), "dataset"), None);
        assert_eq!(field(None, "dataset"), None);
    }
}
