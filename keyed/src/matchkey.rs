//! Match-key tokens and record references under the project key (spec §5).
//!
//! The match-key definitions and their canonical messages are in
//! `pprl_specs::matchkey`; this module holds the keyed half, the HMAC.

use pprl_specs::key::{MATCH_KEY_CONTEXT, RECORD_REF_CONTEXT};
use pprl_specs::matchkey::{
    Components, MATCH_KEY_COUNT, MATCH_KEYS, NAME_SEPARATOR, RECORD_REF_PREFIX, TOKEN_LEN, Token,
};
use pprl_specs::record::NormalisedRecord;
use sha2::digest::consts::U64;
use sha2::digest::generic_array::GenericArray;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::key::ProjectKey;

/// HMAC-SHA-256 (RFC 2104) under one key, with the SHA-256 states after
/// the key blocks precomputed.
///
/// Built on the SHA-256 compression function of the `sha2` crate
/// (`compress256`, which uses the CPU's SHA extensions where present)
/// rather than on the `hmac` crate or the block-buffering core: the caller's
/// message buffer is padded in place, so a tag is exactly the message
/// blocks, its padding block and one outer block, with no hash-state
/// objects, no block buffer and no copy of the message. The precomputed
/// states are wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
struct HmacSha256 {
    /// SHA-256 state after the block `key XOR ipad`.
    inner: [u32; 8],
    /// SHA-256 state after the block `key XOR opad`.
    outer: [u32; 8],
}

/// Bytes in a SHA-256 block.
const SHA256_BLOCK: usize = 64;

/// The SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const SHA256_INITIAL: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Most bytes [`HmacSha256::sign_in_place`] appends: the `0x80` byte, up to
/// 63 zeros and the 8-byte length. A message buffer with this much spare
/// capacity is padded without reallocating (a reallocation would free the
/// old buffer unwiped).
const SHA256_PADDING_MAX: usize = 72;

/// Compresses whole 64-byte blocks of `data` into `state`.
fn compress_blocks(state: &mut [u32; 8], data: &[u8]) {
    for block in data.chunks_exact(SHA256_BLOCK) {
        sha2::compress256(
            state,
            std::slice::from_ref(GenericArray::<u8, U64>::from_slice(block)),
        );
    }
}

impl HmacSha256 {
    /// Keys the two states; `key` is at most one block (a derived key is 32 bytes).
    fn new(key: &[u8; 32]) -> Self {
        let keyed = |pad: u8| {
            let mut block = Zeroizing::new([pad; SHA256_BLOCK]);
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut state = SHA256_INITIAL;
            compress_blocks(&mut state, &block[..]);
            state
        };
        HmacSha256 {
            inner: keyed(0x36),
            outer: keyed(0x5c),
        }
    }

    /// The first [`TOKEN_LEN`] bytes of the tag of `message` (a copy is
    /// padded in a wiped buffer).
    #[cfg(test)]
    fn sign(&self, message: &[u8]) -> Token {
        let mut buf = Zeroizing::new(Vec::with_capacity(message.len() + SHA256_PADDING_MAX));
        buf.extend_from_slice(message);
        self.sign_in_place(&mut buf)
    }

    /// The first [`TOKEN_LEN`] bytes of the tag of the message in `buf`.
    ///
    /// The SHA-256 padding is appended to `buf` and hashed with the message;
    /// `buf` is left holding the message alone. Give `buf`
    /// [`SHA256_PADDING_MAX`] bytes of spare capacity so that it is not
    /// reallocated.
    #[inline(always)]
    fn sign_in_place(&self, buf: &mut Vec<u8>) -> Token {
        let len = buf.len();
        // The inner hash has already taken the key block: 64 more bytes.
        let bits = ((SHA256_BLOCK + len) as u64) * 8;
        let padded = (len + 9).div_ceil(SHA256_BLOCK) * SHA256_BLOCK;
        buf.push(0x80);
        buf.resize(padded - 8, 0);
        buf.extend_from_slice(&bits.to_be_bytes());
        let mut inner = self.inner;
        compress_blocks(&mut inner, buf);
        buf.truncate(len);
        // The outer message is the 32-byte inner digest, after the key block.
        let mut block = [0u8; SHA256_BLOCK];
        for (chunk, word) in block.chunks_exact_mut(4).zip(&inner) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        block[32] = 0x80;
        block[SHA256_BLOCK - 8..]
            .copy_from_slice(&(((SHA256_BLOCK + 32) as u64) * 8).to_be_bytes());
        let mut outer = self.outer;
        compress_blocks(&mut outer, &block);
        // Inlined (above) and built as one integer, the token stays in
        // registers. Returned through memory it was stored in four-byte
        // pieces and read back by the caller as one 16-byte load, which
        // cannot be forwarded from several stores and waited for them: a
        // fifth of the match-key stage's samples.
        let token = outer[..TOKEN_LEN / 4]
            .iter()
            .rev()
            .fold(0u128, |acc, word| acc << 32 | u128::from(word.swap_bytes()));
        token.to_le_bytes()
    }
}

/// Computes match-key tokens and record references under one project key.
///
/// Holds the HMAC states keyed with the derived keys. SHA-256 comes from the
/// RustCrypto `sha2` crate rather than `ring`: on this project's machines
/// `sha2` uses the CPU's SHA extensions and an HMAC costs about half of
/// `ring`'s, and hashing is most of the tokenise budget (see
/// `benches/RESULTS.md`). A test checks every token against `ring`. The
/// derived key bytes and the precomputed HMAC states are wiped.
pub struct MatchKeyHasher {
    match_key: HmacSha256,
    record_ref: HmacSha256,
    /// `prefix || name || NAME_SEPARATOR` of each match key, built once: the
    /// prefix names the version that added the key (spec §5.1).
    prefixes: [Vec<u8>; MATCH_KEY_COUNT],
}

impl MatchKeyHasher {
    /// Derives the HMAC keys from the project key.
    pub fn new(key: &ProjectKey) -> Self {
        let mk = key.derive(MATCH_KEY_CONTEXT);
        let rr = key.derive(RECORD_REF_CONTEXT);
        MatchKeyHasher {
            match_key: HmacSha256::new(mk.expose_secret()),
            record_ref: HmacSha256::new(rr.expose_secret()),
            prefixes: std::array::from_fn(|i| {
                [
                    MATCH_KEYS[i].prefix(),
                    MATCH_KEYS[i].name.as_bytes(),
                    &[NAME_SEPARATOR],
                ]
                .concat()
            }),
        }
    }

    /// Every match-key token of a record, in [`MATCH_KEYS`] order.
    pub fn tokens(&self, record: &NormalisedRecord) -> [Option<Token>; MATCH_KEY_COUNT] {
        let components = Components::new(record);
        // A message is a prefix, some distinct components and at most three
        // separators between them, then its padding: sized so that it is never
        // reallocated (which would leave the old buffer unwiped).
        let longest_prefix = self.prefixes.iter().map(Vec::len).max().unwrap_or(0);
        let mut message = Zeroizing::new(Vec::with_capacity(
            longest_prefix + components.len() + 3 + SHA256_PADDING_MAX,
        ));
        let mut tokens = [None; MATCH_KEY_COUNT];
        for ((token, prefix), def) in tokens.iter_mut().zip(&self.prefixes).zip(MATCH_KEYS) {
            message.clear();
            message.extend_from_slice(prefix);
            if components.append_components(def, &mut message) {
                *token = Some(self.match_key.sign_in_place(&mut message));
            }
        }
        tokens
    }

    /// The keyed reference of a partner's record number within a dataset (spec §5.3).
    pub fn record_ref(&self, dataset: &str, record_id: &str) -> Token {
        let record_id = record_id.trim();
        let mut msg = Zeroizing::new(Vec::with_capacity(
            RECORD_REF_PREFIX.len() + dataset.len() + 1 + record_id.len() + SHA256_PADDING_MAX,
        ));
        msg.extend_from_slice(RECORD_REF_PREFIX);
        msg.extend_from_slice(dataset.as_bytes());
        msg.push(NAME_SEPARATOR);
        msg.extend_from_slice(record_id.as_bytes());
        self.record_ref.sign_in_place(&mut msg)
    }
}

impl std::fmt::Debug for MatchKeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchKeyHasher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use pprl_specs::matchkey::canonical_message;
    use pprl_specs::normalise::DateOrder;
    use pprl_specs::record::{NormaliseOptions, RawRecord};

    fn options() -> NormaliseOptions {
        NormaliseOptions {
            date_order: DateOrder::DayFirst,
            as_of: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
            postcode_format: Default::default(),
        }
    }

    fn record(given: &str, family: &str, dob: &str, sex: &str, postcode: &str) -> NormalisedRecord {
        let raw = RawRecord {
            given_names: Some(given),
            family_name: Some(family),
            date_of_birth: Some(dob),
            sex: Some(sex),
            postcode: Some(postcode),
            ..RawRecord::default()
        };
        NormalisedRecord::from_raw(&raw, &options())
    }

    fn hasher() -> MatchKeyHasher {
        MatchKeyHasher::new(&ProjectKey::from_bytes([1u8; 32]))
    }

    fn index(name: &str) -> usize {
        MATCH_KEYS
            .iter()
            .position(|d| d.name == name)
            .expect("known key name")
    }

    #[test]
    fn missing_component_gives_null_not_hash_of_empty() {
        let h = hasher();
        let tokens = h.tokens(&record("John", "Smith", "", "M", "SW1A 1AA"));
        assert!(tokens[index("names_dob_postcode")].is_none());
        assert!(tokens[index("first_family_postcode")].is_some());
        assert!(tokens[index("nhs_number")].is_none());
    }

    #[test]
    fn spelling_variants_share_tokens() {
        let h = hasher();
        let a = h.tokens(&record("Seán", "O'Neil", "03/02/1980", "m", "sw1a1aa"));
        let b = h.tokens(&record("SEAN", "ONEIL", "1980-02-03", "Male", "SW1A 1AA"));
        assert_eq!(a, b);
        assert!(a[index("names_dob_postcode")].is_some());
    }

    #[test]
    fn swapped_names_and_day_month_keys_survive_the_swap() {
        let h = hasher();
        let a = h.tokens(&record("John", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        let swapped = h.tokens(&record("Smith", "John", "03/02/1980", "M", "SW1A 1AA"));
        let dm = h.tokens(&record("John", "Smith", "02/03/1980", "M", "SW1A 1AA"));
        let nick = h.tokens(&record("Jack", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        let sw = index("swapped_names_dob");
        assert_eq!(a[sw], swapped[sw]);
        assert_ne!(
            a[index("first_family_dob")],
            swapped[index("first_family_dob")]
        );
        let d = index("first_family_dob_daymonth");
        assert_eq!(a[d], dm[d]);
        assert_ne!(a[index("first_family_dob")], dm[index("first_family_dob")]);
        assert_ne!(
            a[index("first_family_dob")],
            nick[index("first_family_dob")]
        );
    }

    #[test]
    fn district_keys_survive_a_family_name_change_and_a_move_in_the_district() {
        let h = hasher();
        let a = h.tokens(&record(
            "William",
            "Sullivan-OConnor",
            "03/02/1980",
            "M",
            "CF23 5WL",
        ));
        // Part of a double-barrelled name, a nickname, another address in CF23.
        let b = h.tokens(&record("Bill", "Sullivan", "03/02/1980", "M", "CF23 9AB"));
        for name in ["nickname_dob_district", "dob_district"] {
            assert!(a[index(name)].is_some(), "{name}");
            assert_eq!(a[index(name)], b[index(name)], "{name}");
        }
        // Every key 1-14 holds the family name (or its Soundex, which
        // differs here too) or a national number: none is shared.
        for def in &MATCH_KEYS[..14] {
            let k = index(def.name);
            assert!(a[k].is_none() || a[k] != b[k], "{}", def.name);
        }
        // A blank family name keeps the district keys and loses family_dob_sex.
        let blank = h.tokens(&record("William", "", "03/02/1980", "M", "CF23 5WL"));
        assert_eq!(blank[index("dob_district")], a[index("dob_district")]);
        assert!(blank[index("family_dob_sex")].is_none());
        // Another district, or no postcode at all, and they are gone.
        let moved = h.tokens(&record(
            "William",
            "Sullivan-OConnor",
            "03/02/1980",
            "M",
            "CF24 5WL",
        ));
        assert_ne!(moved[index("dob_district")], a[index("dob_district")]);
        assert_eq!(moved[index("family_dob_sex")], a[index("family_dob_sex")]);
        let none = h.tokens(&record(
            "William",
            "Sullivan-OConnor",
            "03/02/1980",
            "M",
            "",
        ));
        assert!(none[index("dob_district")].is_none());
        assert!(none[index("nickname_dob_district")].is_none());
    }

    #[test]
    fn keys_with_equal_components_still_differ() {
        let h = hasher();
        let t = h.tokens(&record("John", "Smith", "03/02/1980", "M", "SW1A 1AA"));
        assert_ne!(
            t[index("first_family_dob")],
            t[index("nickname_family_dob")]
        );
    }

    #[test]
    fn tokens_are_hmac_sha256_as_ring_computes_it() {
        let key = ProjectKey::from_bytes([5u8; 32]);
        let h = MatchKeyHasher::new(&key);
        let rec = record("Mary Ann", "Smith-Jones", "29/02/1984", "F", "CR2 6XH");
        let ring_key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            key.derive(MATCH_KEY_CONTEXT).expose_secret(),
        );
        let tokens = h.tokens(&rec);
        let mut formed = 0;
        for (def, token) in MATCH_KEYS.iter().zip(tokens) {
            let Some(message) = canonical_message(def, &rec) else {
                continue;
            };
            let tag = ring::hmac::sign(&ring_key, &message);
            assert_eq!(
                token.map(|t| t.to_vec()),
                Some(tag.as_ref()[..TOKEN_LEN].to_vec()),
                "{}",
                def.name
            );
            formed += 1;
        }
        assert!(formed >= 8);
        let ring_ref = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            key.derive(RECORD_REF_CONTEXT).expose_secret(),
        );
        let tag = ring::hmac::sign(&ring_ref, b"pprl/v1|rr|probation\x1eA1");
        assert_eq!(
            h.record_ref("probation", "A1")[..],
            tag.as_ref()[..TOKEN_LEN]
        );
    }

    #[test]
    fn hmac_matches_ring_at_every_message_length() {
        let key = [7u8; 32];
        let ours = HmacSha256::new(&key);
        let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
        let message: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
        for len in 0..=message.len() {
            let tag = ring::hmac::sign(&ring_key, &message[..len]);
            assert_eq!(
                ours.sign(&message[..len])[..],
                tag.as_ref()[..TOKEN_LEN],
                "{len}"
            );
        }
    }

    #[test]
    fn record_refs_are_keyed_per_dataset() {
        let h = hasher();
        assert_eq!(
            h.record_ref("probation", "A1"),
            h.record_ref("probation", " A1 ")
        );
        assert_ne!(
            h.record_ref("probation", "A1"),
            h.record_ref("police", "A1")
        );
        let other = MatchKeyHasher::new(&ProjectKey::from_bytes([2u8; 32]));
        assert_ne!(
            h.record_ref("probation", "A1"),
            other.record_ref("probation", "A1")
        );
    }
}
