//! Opaque tokens and the keyed hashes they are stored as.
//!
//! Every secret Gatehouse hands out (session and device cookies, emailed links, provider
//! round-trip states and bindings, WebAuthn ceremony ids) is 32 random bytes in
//! base64url, and only its keyed hash is stored: a database dump holds no token that
//! works, and none can be guessed from it without the hashing key.

use data_encoding::BASE64URL_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::auth::kernel::random::Entropy;

/// 32 bytes encode to 43 characters.
const TOKEN_CHARS: usize = 43;

/// A new token: 32 bytes from `entropy`, base64url without padding.
pub fn generate(entropy: &dyn Entropy) -> String {
    let mut bytes = [0u8; 32];
    entropy.fill(&mut bytes);
    BASE64URL_NOPAD.encode(&bytes)
}

/// Whether `value` has the one shape [`generate`] makes: anything else was never issued,
/// and is refused before any lookup.
pub fn is_well_formed(value: &str) -> bool {
    value.len() == TOKEN_CHARS && BASE64URL_NOPAD.decode(value.as_bytes()).is_ok()
}

/// HMAC-SHA256 under `key` of `parts`, fed in order. Each use starts with a label of its
/// own, so one kind of token never hashes to another's value.
pub fn keyed_hash(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::kernel::random::OsEntropy;

    #[test]
    fn generated_tokens_are_well_formed_and_differ() {
        let (a, b) = (generate(&OsEntropy), generate(&OsEntropy));
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn other_shapes_are_refused() {
        let token = generate(&OsEntropy);
        assert!(!is_well_formed(&token[1..]));
        assert!(!is_well_formed(&format!("{token}A")));
        assert!(!is_well_formed(&format!("{}+", &token[1..])));
        assert!(!is_well_formed(""));
    }

    /// Hashes stored before this module existed must still match: the value is HMAC-SHA256
    /// of the parts one after the other, pinned to a digest computed elsewhere (Python's
    /// `hmac`).
    #[test]
    fn the_hash_is_hmac_sha256_of_the_parts_in_order() {
        let key = [9; 32];
        let expected = "84ae8c81a140d6e57852098363c2231f5e9e814c6dd0dcdc7f93a26d1337a680";
        let hex = |bytes: Vec<u8>| data_encoding::HEXLOWER.encode(&bytes);
        assert_eq!(
            hex(keyed_hash(&key, &[b"remembered-device/", b"abc"])),
            expected
        );
        assert_eq!(hex(keyed_hash(&key, &[b"remembered-device/abc"])), expected);
        assert_ne!(keyed_hash(&key, &[b"a"]), keyed_hash(&[8; 32], &[b"a"]));
    }
}
