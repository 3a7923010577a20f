//! Encryption at rest for TOTP secrets (and recovery codes in transit to a page), and the
//! server's key hierarchy.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use rand::CryptoRng;
use sha2::Sha256;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Sealed values start with this version byte and the sealing key's id, so a value
/// sealed under another key is named as such instead of failing as if tampered with.
const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 4;
const HEADER_LEN: usize = 1 + KEY_ID_LEN;
/// Changing an info string changes the derived key and strands everything sealed under it.
const SEALING_INFO: &[u8] = b"gatehouse totp sealing v1";
const HASHING_INFO: &[u8] = b"gatehouse token hashing v1";
const HANDOFF_INFO: &[u8] = b"gatehouse recovery code handoff v1";
const OUTBOX_INFO: &[u8] = b"gatehouse outbox v1";
const KEY_ID_INFO: &[u8] = b"gatehouse key id v1";
const WRAPPING_INFO: &[u8] = b"gatehouse key wrapping v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    /// Covers truncation, wrong key, wrong user and tampering alike, so it reveals nothing.
    #[error("sealed data could not be opened")]
    Open,
    /// AES-GCM cannot encrypt more than about 64 GiB under one nonce.
    #[error("data is too large to seal")]
    TooLarge,
    /// The value names the key it was sealed under, and it is not this one.
    #[error("sealed under server key {found}, but this server key is {ours}")]
    OtherKey { found: KeyId, ours: KeyId },
}

/// The first bytes of a key's own derived id: names a key in sealed values and messages
/// without revealing anything about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    fn of(master: &[u8; 32]) -> Self {
        let id = derive_key(master, KEY_ID_INFO);
        let mut bytes = [0; KEY_ID_LEN];
        bytes.copy_from_slice(&id[..KEY_ID_LEN]);
        KeyId(bytes)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&data_encoding::HEXLOWER.encode(&self.0))
    }
}

/// AES-256-GCM key for TOTP secrets at rest; never printed.
pub struct SealingKey {
    cipher: Aes256Gcm,
    /// The id of the server key this one was derived from.
    id: KeyId,
}

impl SealingKey {
    pub fn new(key: &[u8; 32], id: KeyId) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            id,
        }
    }

    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Returns `version || key id || nonce || ciphertext || tag`. The user id is bound as
    /// associated data so a sealed secret copied onto another account's row fails to open.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        user_id: i64,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, SealingError> {
        // 96 random bits stay collision-safe far beyond the number of secrets we will seal.
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: &user_id.to_be_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(&Nonce::from(nonce), payload)
            .map_err(|_| SealingError::TooLarge)?;
        let mut sealed = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&self.id.0);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value sealed by [`SealingKey::seal`], or one from before sealed values
    /// carried a header (`nonce || ciphertext || tag`).
    pub fn open(&self, user_id: i64, sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
        match sealed.split_first_chunk::<HEADER_LEN>() {
            Some((header, body)) if header[0] == VERSION => {
                let found = KeyId(header[1..].try_into().expect("header holds a key id"));
                if found == self.id {
                    return self.open_body(user_id, body);
                }
                // A headerless value starts with a random nonce: it may look like a header.
                self.open_body(user_id, sealed)
                    .map_err(|_| SealingError::OtherKey {
                        found,
                        ours: self.id,
                    })
            }
            _ => self.open_body(user_id, sealed),
        }
    }

    fn open_body(&self, user_id: i64, sealed: &[u8]) -> Result<Vec<u8>, SealingError> {
        let (nonce, ciphertext) = sealed
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(SealingError::Open)?;
        if ciphertext.len() < TAG_LEN {
            return Err(SealingError::Open);
        }
        let payload = Payload {
            msg: ciphertext,
            aad: &user_id.to_be_bytes(),
        };
        self.cipher
            .decrypt(&Nonce::from(*nonce), payload)
            .map_err(|_| SealingError::Open)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Purpose-specific keys derived from the single master key file, so no key does two jobs.
/// The hashing key is the exception: it must outlive a change of server key (hashes
/// cannot be recomputed), so after the first start it is kept in the database, wrapped
/// by `wrapping` (see `server_key`).
pub struct ServerKeys {
    pub sealing: SealingKey,
    /// HMAC key for recovery codes and other tokens stored only as hashes.
    pub hashing: Zeroizing<[u8; 32]>,
    /// Seals recovery codes on their short way to a page without JavaScript; a key of its
    /// own, so a sealed TOTP secret moved into that table cannot be shown as codes.
    pub handoff: SealingKey,
    /// Seals mail waiting in the outbox, which may carry a single-use link.
    pub outbox: SealingKey,
    /// Seals the hashing key for storage.
    pub wrapping: SealingKey,
}

impl ServerKeys {
    /// Every key from the master key alone, as on a first start.
    pub fn derive(master: &[u8; 32]) -> Self {
        Self::with_hashing(master, derive_key(master, HASHING_INFO))
    }

    /// The keys of `master`, with a hashing key kept from an earlier server key.
    pub fn with_hashing(master: &[u8; 32], hashing: Zeroizing<[u8; 32]>) -> Self {
        let id = KeyId::of(master);
        Self {
            sealing: SealingKey::new(&derive_key(master, SEALING_INFO), id),
            hashing,
            handoff: SealingKey::new(&derive_key(master, HANDOFF_INFO), id),
            outbox: SealingKey::new(&derive_key(master, OUTBOX_INFO), id),
            wrapping: SealingKey::new(&derive_key(master, WRAPPING_INFO), id),
        }
    }

    pub fn key_id(&self) -> KeyId {
        self.sealing.key_id()
    }
}

impl fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKeys(<redacted>)")
    }
}

/// HKDF-SHA256 without salt: the master key is already uniformly random.
fn derive_key(master: &[u8; 32], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, master)
        .expand(info, &mut key[..])
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const SECRET: &[u8] = b"12345678901234567890";

    fn rng() -> StdRng {
        StdRng::seed_from_u64(96)
    }

    #[test]
    fn round_trip() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let sealed = key.seal(42, SECRET, &mut rng()).unwrap();
        assert_eq!(
            sealed.len(),
            HEADER_LEN + NONCE_LEN + SECRET.len() + TAG_LEN
        );
        assert_eq!(key.open(42, &sealed).unwrap(), SECRET);
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = SealingKey::new(&[1; 32], KeyId([1; 4]))
            .seal(42, SECRET, &mut rng())
            .unwrap();
        let other = SealingKey::new(&[2; 32], KeyId([2; 4]));
        assert_eq!(
            other.open(42, &sealed),
            Err(SealingError::OtherKey {
                found: KeyId([1; 4]),
                ours: KeyId([2; 4])
            }),
            "the message names both keys"
        );
    }

    #[test]
    fn wrong_user_id_fails() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let sealed = key.seal(42, SECRET, &mut rng()).unwrap();
        assert_eq!(key.open(43, &sealed), Err(SealingError::Open));
    }

    #[test]
    fn any_tampered_byte_fails() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let sealed = key.seal(42, SECRET, &mut rng()).unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            // A changed key id names another key; any other change is plain tampering.
            let expected = if (1..HEADER_LEN).contains(&i) {
                let mut found = [1; KEY_ID_LEN];
                found[i - 1] ^= 0x01;
                SealingError::OtherKey {
                    found: KeyId(found),
                    ours: KeyId([1; 4]),
                }
            } else {
                SealingError::Open
            };
            assert_eq!(key.open(42, &tampered), Err(expected), "byte {i}");
        }
    }

    #[test]
    fn truncated_input_fails() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let sealed = key.seal(42, b"", &mut rng()).unwrap();
        assert_eq!(key.open(42, &sealed).unwrap(), b"");
        for len in [0, HEADER_LEN + NONCE_LEN, sealed.len() - 1] {
            assert_eq!(key.open(42, &sealed[..len]), Err(SealingError::Open));
        }
    }

    #[test]
    fn values_sealed_before_the_header_still_open() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let sealed = key.seal(42, SECRET, &mut rng()).unwrap();
        assert_eq!(key.open(42, &sealed[HEADER_LEN..]).unwrap(), SECRET);
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let key = SealingKey::new(&[1; 32], KeyId([1; 4]));
        let mut rng = rng();
        let a = key.seal(42, SECRET, &mut rng).unwrap();
        let b = key.seal(42, SECRET, &mut rng).unwrap();
        assert_ne!(
            a[HEADER_LEN..HEADER_LEN + NONCE_LEN],
            b[HEADER_LEN..HEADER_LEN + NONCE_LEN]
        );
        assert_ne!(a, b);
    }

    #[test]
    fn derived_keys_are_distinct_and_deterministic() {
        let master: [u8; 32] = std::array::from_fn(|i| i as u8);
        let sealing = derive_key(&master, SEALING_INFO);
        let hashing = derive_key(&master, HASHING_INFO);
        assert_ne!(*sealing, *hashing);
        assert_ne!(*sealing, master);
        // Pinned, independently computed with Python's hmac module: a change here
        // would make every stored secret unreadable.
        assert_eq!(
            data_encoding::HEXLOWER.encode(&*sealing),
            "4e0887915e4a77e0dc558081e56e70ccad0fbe97721db4f1c5a4933acbe173c2"
        );
        assert_eq!(
            data_encoding::HEXLOWER.encode(&*hashing),
            "46af6401dab5eb206b4d2c5170265307fb3c942f6f3a1019d01a22064dec0c8c"
        );

        let first = ServerKeys::derive(&master);
        let second = ServerKeys::derive(&master);
        assert_eq!(*first.hashing, *hashing);
        assert_eq!(*second.hashing, *hashing);
        let sealed = first.sealing.seal(7, SECRET, &mut rng()).unwrap();
        assert_eq!(second.sealing.open(7, &sealed).unwrap(), SECRET);
        let direct = SealingKey::new(&sealing, KeyId::of(&master));
        assert_eq!(direct.open(7, &sealed).unwrap(), SECRET);
    }

    #[test]
    fn debug_output_is_redacted() {
        let keys = ServerKeys::derive(&[9; 32]);
        assert_eq!(format!("{keys:?}"), "ServerKeys(<redacted>)");
        assert_eq!(format!("{:?}", keys.sealing), "SealingKey(<redacted>)");
    }
}
