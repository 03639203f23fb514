//! API tokens: generation, parsing and verification, and the roles they carry.
//!
//! A token reads `pprl_<id>_<secret>`: `id` is 16 hex digits that name the
//! token in lists and audit logs; `secret` is 64 hex digits (256 bits from the
//! operating system's generator). Only the BLAKE3 hash of the secret is
//! stored, and it is compared in constant time. Tokens travel only in the
//! `Authorization: Bearer` header, never in URLs.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use crate::ids::TokenId;

/// Prefix of every API token.
pub const TOKEN_PREFIX: &str = "pprl_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Creates projects, issues and revokes tokens, reads everything.
    Administrator,
    /// Uploads the datasets its project assigns to its partner.
    Partner,
    /// Reads a project's published outputs, all but the record-level
    /// linkage file (`links.parquet`).
    Evaluator,
    /// Reads a project's linkage-quality outputs (`links.parquet`, when the
    /// project publishes it, `report.json`, `model.json`); issue 17.
    #[serde(rename = "linkage-analyst")]
    LinkageAnalyst,
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Partner => "partner",
            Role::Evaluator => "evaluator",
            Role::LinkageAnalyst => "linkage-analyst",
        }
    }

    /// Parses a stored or typed role name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "administrator" | "admin" => Some(Role::Administrator),
            "partner" => Some(Role::Partner),
            "evaluator" => Some(Role::Evaluator),
            "linkage-analyst" | "linkage_analyst" => Some(Role::LinkageAnalyst),
            _ => None,
        }
    }
}

/// A newly issued token: shown once, then only its hash is kept.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct IssuedToken {
    /// The public id.
    #[zeroize(skip)]
    pub id: TokenId,
    secret: String,
}

impl IssuedToken {
    /// Draws a new token from the operating system's generator.
    pub fn generate() -> Self {
        let rng = SystemRandom::new();
        let mut id = [0u8; ID_BYTES];
        let mut secret = Zeroizing::new([0u8; SECRET_BYTES]);
        rng.fill(&mut id)
            .expect("the operating system's random generator works");
        rng.fill(&mut secret[..])
            .expect("the operating system's random generator works");
        IssuedToken {
            id: TokenId::new(hex::encode(id)),
            secret: hex::encode(*secret),
        }
    }

    /// The full token text, to hand to its holder once.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{TOKEN_PREFIX}{}_{}", self.id, self.secret))
    }

    /// The hash stored in place of the secret.
    pub fn secret_hash(&self) -> [u8; 32] {
        hash_secret(&self.secret)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedToken({}, <redacted>)", self.id)
    }
}

/// A token presented by a caller, split into id and secret.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PresentedToken {
    #[zeroize(skip)]
    pub id: TokenId,
    secret: String,
}

impl PresentedToken {
    /// Parses `pprl_<id>_<secret>`; `None` if it is not shaped like a token.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix(TOKEN_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let hex_of =
            |s: &str, len: usize| s.len() == len * 2 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_of(id, ID_BYTES) || !hex_of(secret, SECRET_BYTES) {
            return None;
        }
        Some(PresentedToken {
            id: TokenId::new(id.to_ascii_lowercase()),
            secret: secret.to_ascii_lowercase(),
        })
    }

    /// Whether the secret matches a stored hash; constant time in the secret.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        let Ok(stored) = <[u8; 32]>::try_from(stored_hash) else {
            return false;
        };
        // blake3::Hash's equality is constant-time.
        blake3::Hash::from_bytes(hash_secret(&self.secret)) == blake3::Hash::from_bytes(stored)
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedToken({}, <redacted>)", self.id)
    }
}

fn hash_secret(secret: &str) -> [u8; 32] {
    *blake3::Hasher::new_derive_key("pprl api token secret")
        .update(secret.as_bytes())
        .finalize()
        .as_bytes()
}

/// Who is calling, once their token has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token_id: TokenId,
    pub role: Role,
    /// The project of a partner, evaluator or linkage-analyst token.
    pub project: Option<String>,
    /// The partner of a partner token.
    pub partner: Option<String>,
}

impl Principal {
    /// Whether this caller may see that the project exists at all.
    pub fn may_see(&self, project: &str) -> bool {
        self.role == Role::Administrator || self.project.as_deref() == Some(project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_nothing_else_does() {
        let issued = IssuedToken::generate();
        let text = issued.expose_secret();
        assert!(text.starts_with("pprl_"));
        assert_eq!(text.len(), 5 + 16 + 1 + 64);
        let presented = PresentedToken::parse(&text).expect("parses");
        assert_eq!(presented.id, issued.id);
        assert!(presented.matches(&issued.secret_hash()));
        let other = IssuedToken::generate();
        assert!(!presented.matches(&other.secret_hash()));
        assert!(!presented.matches(&[0u8; 5]));
        for bad in [
            "",
            "pprl_",
            "Bearer x",
            &text[..text.len() - 1],
            &text.replace("pprl_", "ppl_"),
        ] {
            assert!(PresentedToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in [
            Role::Administrator,
            Role::Partner,
            Role::Evaluator,
            Role::LinkageAnalyst,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_value(role).expect("serialises"),
                serde_json::Value::String(role.as_str().to_owned())
            );
        }
        assert_eq!(Role::parse("analyst"), None);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let issued = IssuedToken::generate();
        let text = issued.expose_secret();
        let secret = &text[text.len() - 64..];
        let shown = format!(
            "{issued:?} {:?}",
            PresentedToken::parse(&text).expect("parses")
        );
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
