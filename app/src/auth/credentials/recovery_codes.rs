//! One-time recovery codes, the way back in when the authenticator is lost.

use rand::{CryptoRng, RngExt};
use secrecy::{ExposeSecret, ExposeSecretMut, SecretString};

/// Digits 2-9 and letters without I, L, O and U: nothing that can be misread as
/// another symbol when copied from paper (U is dropped as in Crockford's base32).
/// Only 31 symbols exist without 0, O, 1, I and L, so a power-of-two alphabet is
/// impossible; uniform sampling over 30 costs nothing but a longer entropy formula.
pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 24 symbols from 30 carry 117.7 bits, above the 112-bit floor.
pub const CODE_LEN: usize = 24;
/// Codes issued per set.
pub const CODES_PER_SET: usize = 10;
const GROUP_LEN: usize = 4;

/// Errors shown to a person who typed a recovery code, hence the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryCodeError {
    #[error("Enter one of your recovery codes.")]
    Empty,
    #[error(
        "Recovery codes use only the digits 2-9 and the letters A-Z without I, L, O or U. \
         Check the code for typos."
    )]
    InvalidCharacter,
    #[error("A recovery code has 24 characters, shown as six groups of four.")]
    WrongLength,
}

/// A recovery code in canonical form (upper case, no separators); never printed.
#[derive(Clone, Debug)]
pub struct RecoveryCode(SecretString);

impl RecoveryCode {
    fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let code: String = (0..CODE_LEN)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        Self(code.into())
    }

    /// Ignores case, whitespace and dashes; maps nothing else, so a typed 0 or O is
    /// rejected rather than guessed at.
    pub fn parse(input: &str) -> Result<Self, RecoveryCodeError> {
        let mut code = SecretString::from(crate::shared::codes::compact(input));
        code.expose_secret_mut().make_ascii_uppercase();
        let canonical = code.expose_secret();
        if canonical.is_empty() {
            return Err(RecoveryCodeError::Empty);
        }
        if !canonical.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(RecoveryCodeError::InvalidCharacter);
        }
        if canonical.len() != CODE_LEN {
            return Err(RecoveryCodeError::WrongLength);
        }
        Ok(Self(code))
    }

    /// Groups of four joined by '-', the form shown to the person once at issue.
    pub fn display(&self) -> String {
        let mut grouped = String::with_capacity(CODE_LEN + CODE_LEN / GROUP_LEN);
        for (i, c) in self.0.expose_secret().chars().enumerate() {
            if i > 0 && i % GROUP_LEN == 0 {
                grouped.push('-');
            }
            grouped.push(c);
        }
        grouped
    }
}

/// A fresh set of codes from a CSPRNG.
pub fn generate_set<R: CryptoRng + ?Sized>(rng: &mut R) -> Vec<RecoveryCode> {
    (0..CODES_PER_SET)
        .map(|_| RecoveryCode::generate(rng))
        .collect()
}

/// HMAC-SHA256 of the canonical code: a database dump holds no code and cannot be
/// brute-forced without the server key, yet equal codes hash equally so the
/// database can look a code up by equality.
pub fn hash(key: &[u8; 32], code: &RecoveryCode) -> Vec<u8> {
    crate::auth::kernel::tokens::keyed_hash(key, &[code.0.expose_secret().as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use std::collections::HashSet;

    fn codes() -> Vec<RecoveryCode> {
        generate_set(&mut StdRng::seed_from_u64(112))
    }

    #[test]
    fn alphabet_is_distinct_and_free_of_look_alikes() {
        let symbols: HashSet<u8> = ALPHABET.iter().copied().collect();
        assert_eq!(symbols.len(), ALPHABET.len());
        for look_alike in *b"0O1ILU" {
            assert!(!symbols.contains(&look_alike), "{}", char::from(look_alike));
        }
        assert!(symbols
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    }

    #[test]
    fn codes_carry_at_least_112_bits() {
        let bits = CODE_LEN as f64 * (ALPHABET.len() as f64).log2();
        assert!(bits >= 112.0, "{bits}");
    }

    #[test]
    fn a_set_has_ten_distinct_codes_of_the_right_shape() {
        let codes = codes();
        assert_eq!(codes.len(), 10);
        let unique: HashSet<String> = codes.iter().map(RecoveryCode::display).collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert_eq!(code.0.expose_secret().len(), CODE_LEN);
            assert!(code
                .0
                .expose_secret()
                .bytes()
                .all(|b| ALPHABET.contains(&b)));
        }
    }

    #[test]
    fn display_groups_by_four_and_parses_back() {
        for code in codes() {
            let shown = code.display();
            assert_eq!(shown.len(), 29);
            assert!(shown.split('-').all(|group| group.len() == 4));
            assert_eq!(
                RecoveryCode::parse(&shown).unwrap().0.expose_secret(),
                code.0.expose_secret()
            );
        }
    }

    #[test]
    fn parsing_ignores_case_spaces_and_dashes() {
        let canonical = RecoveryCode::parse("ABCD-EFGH-JKMN-PQRS-TVWX-YZ23").unwrap();
        let typed = RecoveryCode::parse("  abcd efgh-jkmn PQRS-tvwx yz23 ").unwrap();
        assert_eq!(typed.0.expose_secret(), canonical.0.expose_secret());
        assert_eq!(canonical.0.expose_secret(), "ABCDEFGHJKMNPQRSTVWXYZ23");
    }

    #[test]
    fn parsing_explains_what_is_wrong() {
        use RecoveryCodeError::*;
        assert_eq!(RecoveryCode::parse(" - ").unwrap_err(), Empty);
        assert_eq!(RecoveryCode::parse("ABCD-EFGH").unwrap_err(), WrongLength);
        let too_long = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ23-A";
        assert_eq!(RecoveryCode::parse(too_long).unwrap_err(), WrongLength);
        let with_zero = "0BCD-EFGH-JKMN-PQRS-TVWX-YZ23";
        assert_eq!(
            RecoveryCode::parse(with_zero).unwrap_err(),
            InvalidCharacter
        );
        let with_o = "OBCD-EFGH-JKMN-PQRS-TVWX-YZ23";
        assert_eq!(RecoveryCode::parse(with_o).unwrap_err(), InvalidCharacter);
        assert_eq!(Empty.to_string(), "Enter one of your recovery codes.");
    }

    #[test]
    fn hash_is_stable_and_key_dependent() {
        let code = RecoveryCode::parse("abcd-efgh-jkmn-pqrs-tvwx-yz23").unwrap();
        let digest = hash(&[7; 32], &code);
        // Independently computed with Python's hmac module.
        assert_eq!(
            data_encoding::HEXLOWER.encode(&digest),
            "2f68c59df9ec8a809241a96dd1ecfc09867c4481e29196ee942365f8b0a4ed1a"
        );
        assert_ne!(hash(&[8; 32], &code), digest);
    }

    #[test]
    fn debug_output_is_redacted() {
        let code = &codes()[0];
        let shown = format!("{code:?}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(!shown.contains(code.0.expose_secret()), "{shown}");
    }
}
