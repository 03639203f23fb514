//! Tests of the name normalisers.

use super::*;
use proptest::prelude::*;

fn given(raw: &str) -> Vec<String> {
    match given_names(raw) {
        Field::Present(g) => g.names().map(str::to_owned).collect(),
        other => panic!("expected present given names, got {other:?}"),
    }
}

fn family(raw: &str) -> String {
    match family_name(raw) {
        Field::Present(f) => f,
        other => panic!("expected present family name, got {other:?}"),
    }
}

#[test]
fn given_names_split_on_separators() {
    assert_eq!(given("John Paul"), ["JOHN", "PAUL"]);
    assert_eq!(given("Mary-Jane"), ["MARY", "JANE"]);
    assert_eq!(given("mary_jane"), ["MARY", "JANE"]);
    assert_eq!(given("Smith, John"), ["SMITH", "JOHN"]);
    assert_eq!(given("  john \t  paul  "), ["JOHN", "PAUL"]);
    assert_eq!(given("Anne\u{2013}Marie"), ["ANNE", "MARIE"]);
    assert_eq!(given("J. R. R."), ["J", "R", "R"]);
}

#[test]
fn given_names_accessors() {
    let Field::Present(g) = given_names("Mary Ann Jo") else {
        panic!("expected present given names");
    };
    assert_eq!(g.first(), "MARY");
    assert_eq!(g.all(), ["MARY", "ANN", "JO"]);
    assert_eq!(g.joined(), "MARY ANN JO");
    assert_eq!(format!("{g:?}"), "GivenNames(<redacted>)");
}

#[test]
fn accents_and_folded_letters() {
    assert_eq!(given("Zoë"), ["ZOE"]);
    assert_eq!(given("JOSÉ"), ["JOSE"]);
    assert_eq!(given("Se\u{301}bastien"), ["SEBASTIEN"]);
    assert_eq!(family("Müller"), "MULLER");
    assert_eq!(family("Weiß"), "WEISS");
    assert_eq!(family("Ærø"), "AERO");
    assert_eq!(family("Œuvre"), "OEUVRE");
    assert_eq!(family("Søren"), "SOREN");
    assert_eq!(family("Łukasz"), "LUKASZ");
    assert_eq!(family("Đokić"), "DOKIC");
    assert_eq!(family("Þórður"), "THORDUR");
    assert_eq!(family("Guðrún"), "GUDRUN");
    assert_eq!(family("Yıldız"), "YILDIZ");
    assert_eq!(family("ＳＭＩＴＨ"), "SMITH");
}

#[test]
fn apostrophes_and_full_stops_are_removed() {
    for raw in [
        "O'Neil", "O’Neil", "O`Neil", "O‘Neil", "O´Neil", "ONeil", "ONEIL",
    ] {
        assert_eq!(family(raw), "ONEIL", "{raw}");
    }
    assert_eq!(family("O Neil"), "ONEIL");
    assert_eq!(given("D'Arcy"), ["DARCY"]);
    assert_eq!(family("St. John"), "STJOHN");
}

#[test]
fn family_names_join_parts() {
    for raw in ["Smith-Jones", "Smith Jones", "SMITHJONES", "smith_jones"] {
        assert_eq!(family(raw), "SMITHJONES", "{raw}");
    }
    assert_eq!(family("van der Berg"), "VANDERBERG");
    assert_eq!(family("de la Cruz"), "DELACRUZ");
}

#[test]
fn titles_and_suffixes_are_dropped() {
    assert_eq!(given("Mr John"), ["JOHN"]);
    assert_eq!(given("Rev. Dr. John Paul"), ["JOHN", "PAUL"]);
    assert_eq!(given("Mrs Mary Jnr"), ["MARY"]);
    assert_eq!(given("John II"), ["JOHN"]);
    assert_eq!(given("John Paul Jr."), ["JOHN", "PAUL"]);
    assert_eq!(family("Smith Jr"), "SMITH");
    assert_eq!(family("Dr Smith III"), "SMITH");
    // A title in the middle is kept.
    assert_eq!(given("John Sir Paul"), ["JOHN", "SIR", "PAUL"]);
    // A family name that is only a title survives.
    assert_eq!(family("Lord"), "LORD");
    assert_eq!(family("Mr Lord"), "LORD");
    assert_eq!(family("Mr Lord Jr"), "LORD");
    assert_eq!(family("Jr"), "JR");
}

#[test]
fn title_only_given_names_are_placeholders() {
    assert_eq!(given_names("Mr"), Field::Placeholder);
    assert_eq!(given_names("Mrs."), Field::Placeholder);
    assert_eq!(given_names("Jr"), Field::Placeholder);
}

#[test]
fn blank_is_missing() {
    for raw in ["", "   ", "\t\n"] {
        assert_eq!(given_names(raw), Field::Missing);
        assert_eq!(family_name(raw), Field::Missing);
    }
}

#[test]
fn placeholders() {
    for raw in [
        "UNKNOWN",
        "unknown",
        "Unk",
        "NOT KNOWN",
        "not-known",
        "NK",
        "n.k.",
        "N/A",
        "n.a.",
        "NONE",
        "null",
        "TEST",
        "Test Patient",
        "X",
        "XX",
        "XXX",
        "xxxx",
        "ZZ",
        "ZZZ",
        "BABY",
        "Baby Boy",
        "INFANT",
        "ANON",
        "Anonymous",
        "REFUSED",
        "Not Given",
        "unnamed",
        "-",
        "?",
        "...",
        "Mr Unknown",
    ] {
        assert_eq!(given_names(raw), Field::Placeholder, "given {raw}");
        assert_eq!(family_name(raw), Field::Placeholder, "family {raw}");
    }
}

#[test]
fn real_names_that_look_like_placeholders() {
    assert_eq!(family("Na"), "NA");
    assert_eq!(family("NA"), "NA");
    assert_eq!(given("Z"), ["Z"]);
    assert_eq!(given("Nil"), ["NIL"]);
}

#[test]
fn other_characters_are_invalid() {
    for raw in [
        "John2",
        "J0hn",
        "Smith & Sons",
        "Smith/Jones",
        "Иван",
        "王",
        "a@b",
        "Ann(e)",
    ] {
        assert_eq!(given_names(raw), Field::Invalid(NOT_LETTERS), "{raw}");
        assert_eq!(family_name(raw), Field::Invalid(NOT_LETTERS), "{raw}");
    }
}

#[test]
fn invalid_reason_never_holds_the_value() {
    let Field::Invalid(reason) = family_name("Secret9") else {
        panic!("expected invalid");
    };
    assert!(!reason.0.to_ascii_uppercase().contains("SECRET"));
    assert_eq!(
        format!("{:?}", family_name("Secret")),
        "Present(<redacted>)"
    );
}

#[test]
fn nickname_table_matches_the_spec() {
    let spec = include_str!("../../../spec/04-normalisation.md");
    let mut roots: Vec<&str> = NICKNAMES.iter().map(|(_, root)| *root).collect();
    roots.sort_unstable();
    roots.dedup();
    for root in roots {
        let nicks: Vec<&str> = NICKNAMES
            .iter()
            .filter(|(_, r)| *r == root)
            .map(|(nick, _)| *nick)
            .collect();
        let row = format!("| {root} | {} |", nicks.join(", "));
        assert!(spec.contains(&row), "spec lacks the row {row}");
    }
    let lists: [&[&str]; 4] = [&NAME_PLACEHOLDERS, &COMMON_PLACEHOLDERS, &TITLES, &SUFFIXES];
    for word in lists.into_iter().flatten() {
        assert!(spec.contains(word), "spec lacks {word}");
    }
}

#[test]
fn values_without_parts_are_placeholders() {
    // An alphabetic combining mark: a letter for the key, dropped by cleaning.
    assert_eq!(given_names("\u{345}"), Field::Placeholder);
    assert_eq!(family_name("\u{345}"), Field::Placeholder);
}

/// Accented look-alikes of ASCII letters, each folding back to the letter.
fn accent_of(c: char, pick: usize) -> char {
    let options: &[char] = match c.to_ascii_lowercase() {
        'a' => &['á', 'à', 'â', 'ä', 'å', 'ã', 'Á', 'Ä'],
        'e' => &['é', 'è', 'ê', 'ë', 'É', 'È'],
        'i' => &['í', 'ì', 'î', 'ï', 'Í'],
        'o' => &['ó', 'ò', 'ô', 'ö', 'õ', 'ø', 'Ö', 'Ø'],
        'u' => &['ú', 'ù', 'û', 'ü', 'Ü'],
        'n' => &['ñ', 'Ñ'],
        'c' => &['ç', 'Ç'],
        'y' => &['ý', 'ÿ'],
        _ => return c,
    };
    options[pick % options.len()]
}

/// Re-spells a canonical name part: random case, accents, apostrophes.
fn respell(part: &str, picks: &[u8]) -> String {
    part.chars()
        .enumerate()
        .map(|(i, c)| {
            let p = picks.get(i % picks.len().max(1)).copied().unwrap_or(0);
            let c = if p & 1 == 1 {
                c.to_ascii_lowercase()
            } else {
                c
            };
            let mut s = String::new();
            s.push(if p & 2 == 2 {
                accent_of(c, usize::from(p >> 3))
            } else {
                c
            });
            if p & 4 == 4 && i > 0 {
                s.push('\'');
            }
            s
        })
        .collect()
}

fn padding() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", " ", "  ", "\t", " \u{a0}"]).prop_map(str::to_owned)
}

fn name_part() -> impl Strategy<Value = String> {
    "[A-Z]{2,10}".prop_filter("not an affix or placeholder", |p| {
        !TITLES.contains(&p.as_str())
            && !SUFFIXES.contains(&p.as_str())
            && !is_name_placeholder_parts(&[p.as_str()])
    })
}

proptest! {}

proptest! {
    #[test]
    fn names_never_panic(raw in any::<String>()) {
        let _ = given_names(&raw);
        let _ = family_name(&raw);
        let _ = nickname_root(&raw);
    }

    #[test]
    fn names_never_panic_on_name_like_text(raw in "[ -~À-ɏ\u{300}-\u{36f}’‘]{0,20}") {
        let _ = given_names(&raw);
        let _ = family_name(&raw);
    }

    #[test]
    fn present_given_names_are_canonical_and_idempotent(raw in any::<String>()) {
        if let Field::Present(g) = given_names(&raw) {
            prop_assert!(!g.all().is_empty());
            for name in g.all() {
                prop_assert!(!name.is_empty());
                prop_assert!(name.bytes().all(|b| b.is_ascii_uppercase()));
            }
            let again = given_names(&g.joined());
            prop_assert_eq!(again.present().map(GivenNames::all), Some(g.all()));
        }
    }

    #[test]
    fn present_family_names_are_canonical_and_idempotent(raw in "[ -~À-ɏ]{0,20}") {
        if let Field::Present(f) = family_name(&raw) {
            prop_assert!(!f.is_empty());
            prop_assert!(f.bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert_eq!(family_name(&f), Field::Present(f.clone()));
        }
    }

    #[test]
    fn respelled_given_names_agree(
        parts in prop::collection::vec(name_part(), 1..4),
        picks in prop::collection::vec(any::<u8>(), 1..12),
        seps in prop::collection::vec(prop::sample::select(vec![" ", "  ", "-", " - ", "_", ", "]), 3),
        pad in (padding(), padding()),
    ) {
        prop_assume!(!is_name_placeholder_parts(&[parts.concat().as_str()]));
        let mut raw = pad.0.clone();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                raw.push_str(seps[i - 1]);
            }
            raw.push_str(&respell(part, &picks));
        }
        raw.push_str(&pad.1);
        prop_assert_eq!(given(&raw), parts.clone());
        prop_assert_eq!(given(&parts.join(" ")), parts);
    }

    #[test]
    fn respelled_family_names_agree(
        parts in prop::collection::vec(name_part(), 1..4),
        picks in prop::collection::vec(any::<u8>(), 1..12),
        sep in prop::sample::select(vec!["", " ", "-", "  ", " - ", "'"]),
        pad in (padding(), padding()),
    ) {
        prop_assume!(!is_name_placeholder_parts(&[parts.concat().as_str()]));
        let respelled: Vec<String> = parts.iter().map(|p| respell(p, &picks)).collect();
        let raw = format!("{}{}{}", pad.0, respelled.join(sep), pad.1);
        prop_assert_eq!(family(&raw), parts.concat());
    }
}
