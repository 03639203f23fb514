//! Nickname roots (spec §4.2.5).

/// The formal root of common English nicknames and spelling variants
/// (spec §4.2.5). Sorted by nickname; wire-stable: changing an entry changes
/// tokens, so it is part of the protocol version.
///
/// Deliberately conservative: names that are given in their own right as
/// often as they are nicknames (JAMIE, JACK, HARRY, CHARLIE, ALEC, LIAM),
/// or that are shared by several formal names (AL, BERT, FRAN, JO, PAT, TERRY),
/// are absent. No root is itself a nickname, so the map is idempotent.
pub const NICKNAMES: [(&str, &str); 112] = [
    ("ABBIE", "ABIGAIL"),
    ("ABBY", "ABIGAIL"),
    ("ABE", "ABRAHAM"),
    ("ALEX", "ALEXANDER"),
    ("ALF", "ALFRED"),
    ("ALFIE", "ALFRED"),
    ("ANDY", "ANDREW"),
    ("ANTONY", "ANTHONY"),
    ("BECCA", "REBECCA"),
    ("BECKY", "REBECCA"),
    ("BEN", "BENJAMIN"),
    ("BENNY", "BENJAMIN"),
    ("BERNIE", "BERNARD"),
    ("BESS", "ELIZABETH"),
    ("BESSIE", "ELIZABETH"),
    ("BETH", "ELIZABETH"),
    ("BETSY", "ELIZABETH"),
    ("BETTY", "ELIZABETH"),
    ("BILL", "WILLIAM"),
    ("BILLY", "WILLIAM"),
    ("BOB", "ROBERT"),
    ("BOBBY", "ROBERT"),
    ("CATH", "KATHERINE"),
    ("CATHERINE", "KATHERINE"),
    ("CATHY", "KATHERINE"),
    ("CHAS", "CHARLES"),
    ("CHRIS", "CHRISTOPHER"),
    ("CLIFF", "CLIFFORD"),
    ("CONNIE", "CONSTANCE"),
    ("DAN", "DANIEL"),
    ("DANNY", "DANIEL"),
    ("DAVE", "DAVID"),
    ("DAVEY", "DAVID"),
    ("DAVY", "DAVID"),
    ("DEBBIE", "DEBORAH"),
    ("DEBRA", "DEBORAH"),
    ("DES", "DESMOND"),
    ("DICK", "RICHARD"),
    ("DON", "DONALD"),
    ("DONNY", "DONALD"),
    ("DOUG", "DOUGLAS"),
    ("ED", "EDWARD"),
    ("EDDIE", "EDWARD"),
    ("EDDY", "EDWARD"),
    ("FRED", "FREDERICK"),
    ("FREDDIE", "FREDERICK"),
    ("FREDDY", "FREDERICK"),
    ("GEOFF", "GEOFFREY"),
    ("GREG", "GREGORY"),
    ("JEFF", "JEFFREY"),
    ("JEN", "JENNIFER"),
    ("JENNY", "JENNIFER"),
    ("JESS", "JESSICA"),
    ("JIM", "JAMES"),
    ("JIMMIE", "JAMES"),
    ("JIMMY", "JAMES"),
    ("JOE", "JOSEPH"),
    ("JOEY", "JOSEPH"),
    ("JOHNNY", "JOHN"),
    ("JOSH", "JOSHUA"),
    ("JUDY", "JUDITH"),
    ("KATE", "KATHERINE"),
    ("KATHARINE", "KATHERINE"),
    ("KATHRYN", "KATHERINE"),
    ("KATHY", "KATHERINE"),
    ("KATIE", "KATHERINE"),
    ("KEN", "KENNETH"),
    ("KENNY", "KENNETH"),
    ("LARRY", "LAWRENCE"),
    ("LAURENCE", "LAWRENCE"),
    ("LEN", "LEONARD"),
    ("LENNY", "LEONARD"),
    ("LIZ", "ELIZABETH"),
    ("LIZZIE", "ELIZABETH"),
    ("LIZZY", "ELIZABETH"),
    ("MAGGIE", "MARGARET"),
    ("MANDY", "AMANDA"),
    ("MATT", "MATTHEW"),
    ("MEG", "MARGARET"),
    ("MICK", "MICHAEL"),
    ("MICKEY", "MICHAEL"),
    ("MICKY", "MICHAEL"),
    ("MIKE", "MICHAEL"),
    ("NICK", "NICHOLAS"),
    ("PADDY", "PATRICK"),
    ("PAM", "PAMELA"),
    ("PEGGY", "MARGARET"),
    ("PETE", "PETER"),
    ("PHIL", "PHILIP"),
    ("PHILLIP", "PHILIP"),
    ("REG", "REGINALD"),
    ("RICH", "RICHARD"),
    ("RICK", "RICHARD"),
    ("RICKY", "RICHARD"),
    ("ROB", "ROBERT"),
    ("ROBBIE", "ROBERT"),
    ("RON", "RONALD"),
    ("RONNIE", "RONALD"),
    ("SAM", "SAMUEL"),
    ("STEVE", "STEPHEN"),
    ("STEVEN", "STEPHEN"),
    ("STU", "STUART"),
    ("SUE", "SUSAN"),
    ("SUSIE", "SUSAN"),
    ("TED", "EDWARD"),
    ("TIM", "TIMOTHY"),
    ("TOM", "THOMAS"),
    ("TOMMY", "THOMAS"),
    ("TONY", "ANTHONY"),
    ("VICKY", "VICTORIA"),
    ("WILL", "WILLIAM"),
    ("WILLIE", "WILLIAM"),
];

/// The formal root of a canonical given name (spec §4.2.5), or the name itself.
///
/// Looks the name up among the [`NICKNAMES`] with its first letter, a few
/// entries compared by length first: cheaper than a binary search of string
/// comparisons, and this runs once per row.
pub fn nickname_root(name: &str) -> &str {
    let bucket = name
        .as_bytes()
        .first()
        .and_then(|b| b.checked_sub(b'A'))
        .and_then(|letter| NICKNAME_BUCKETS.get(usize::from(letter)));
    let Some(&(start, end)) = bucket else {
        return name;
    };
    NICKNAMES[usize::from(start)..usize::from(end)]
        .iter()
        .find(|(nick, _)| *nick == name)
        .map_or(name, |(_, root)| root)
}

/// For each letter `A`–`Z`, the range of [`NICKNAMES`] (sorted) starting with it.
const NICKNAME_BUCKETS: [(u8, u8); 26] = nickname_buckets();

const fn nickname_buckets() -> [(u8, u8); 26] {
    let mut buckets = [(0u8, 0u8); 26];
    let mut i = 0;
    while i < NICKNAMES.len() {
        let letter = (NICKNAMES[i].0.as_bytes()[0] - b'A') as usize;
        if buckets[letter].1 == 0 {
            buckets[letter].0 = i as u8;
        }
        buckets[letter].1 = i as u8 + 1;
        i += 1;
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_table_is_sorted_unique_and_idempotent() {
        assert!((80..=120).contains(&NICKNAMES.len()));
        for pair in NICKNAMES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (nick, root) in NICKNAMES {
            assert_ne!(nick, root);
            assert_eq!(nickname_root(root), root, "{root} is itself a nickname");
            assert!(
                nick.bytes()
                    .chain(root.bytes())
                    .all(|b| b.is_ascii_uppercase())
            );
        }
    }

    #[test]
    fn nickname_roots() {
        for (nick, root) in [
            ("BILL", "WILLIAM"),
            ("WILL", "WILLIAM"),
            ("BILLY", "WILLIAM"),
            ("WILLIE", "WILLIAM"),
            ("BOB", "ROBERT"),
            ("ROB", "ROBERT"),
            ("BOBBY", "ROBERT"),
            ("ROBBIE", "ROBERT"),
            ("JIM", "JAMES"),
            ("JIMMY", "JAMES"),
            ("MIKE", "MICHAEL"),
            ("MICK", "MICHAEL"),
            ("DAVE", "DAVID"),
            ("TOM", "THOMAS"),
            ("TOMMY", "THOMAS"),
            ("STEVE", "STEPHEN"),
            ("STEVEN", "STEPHEN"),
            ("LIZ", "ELIZABETH"),
            ("BETH", "ELIZABETH"),
            ("BETTY", "ELIZABETH"),
            ("LIZZIE", "ELIZABETH"),
            ("KATE", "KATHERINE"),
            ("KATIE", "KATHERINE"),
            ("KATHY", "KATHERINE"),
            ("CATH", "KATHERINE"),
            ("CATHERINE", "KATHERINE"),
            ("KATHRYN", "KATHERINE"),
            ("SUE", "SUSAN"),
            ("SUSIE", "SUSAN"),
            ("TONY", "ANTHONY"),
            ("DANNY", "DANIEL"),
            ("DAN", "DANIEL"),
            ("CHRIS", "CHRISTOPHER"),
            ("MATT", "MATTHEW"),
            ("NICK", "NICHOLAS"),
            ("SAM", "SAMUEL"),
            ("ALEX", "ALEXANDER"),
            ("BEN", "BENJAMIN"),
            ("JOE", "JOSEPH"),
            ("PETE", "PETER"),
            ("RICK", "RICHARD"),
            ("RICKY", "RICHARD"),
            ("DICK", "RICHARD"),
        ] {
            assert_eq!(nickname_root(nick), root, "{nick}");
        }
        for name in ["JAMIE", "WILLIAM", "JOHN", "", "ZZZZ", "AAAA", "bill"] {
            assert_eq!(nickname_root(name), name);
        }
    }
}
