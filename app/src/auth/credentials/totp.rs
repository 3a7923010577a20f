//! RFC 6238 time-based one-time passwords: SHA-1, 6 digits, 30-second steps,
//! the parameters every mainstream authenticator app supports.

use crate::auth::kernel::error::{AuthError, Field};
use data_encoding::BASE32_NOPAD;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::CryptoRng;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use subtle::ConstantTimeEq;
use totp_rs::Builder;

pub use totp_rs::Algorithm;

/// 160 bits: the HMAC-SHA1 output size, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;
/// RFC 4226's floor of 128 bits; secrets enrolled earlier may be shorter than new ones.
pub const MIN_SECRET_LEN: usize = 16;
/// Digits in a code.
pub const DIGITS: usize = 6;
/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
/// One step either side tolerates drifting phone clocks and codes typed as they roll over.
const SKEW_STEPS: i64 = 1;

/// Errors from TOTP secrets, enrolment URIs and verification.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// Wrong and replayed codes share this variant so a caller cannot reveal which it was.
    #[error("That code is not valid. Wait for the next code and try again.")]
    InvalidCode,
    #[error("a TOTP secret needs at least {MIN_SECRET_LEN} bytes, got {0}")]
    SecretTooShort(usize),
    #[error("the issuer must be non-empty and must not contain ':'")]
    InvalidIssuer,
    #[error("the account name must be non-empty and must not contain ':'")]
    InvalidAccount,
    #[error("the time step must be at least one second")]
    ZeroStep,
    #[error("invalid TOTP parameters: {0}")]
    Parameters(#[from] totp_rs::TotpError),
}

/// Errors shown to a person who typed a code, hence the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpCodeError {
    #[error("Enter the 6-digit code from your authenticator app.")]
    Empty,
    #[error(
        "The code can only contain digits. Enter the 6-digit code from your authenticator app."
    )]
    NotDigits,
    #[error("The code must be exactly 6 digits.")]
    WrongLength,
}

/// The key shared with the authenticator app; zeroized on drop and never printed.
#[derive(Clone, Debug)]
pub struct TotpSecret(SecretSlice<u8>);

impl TotpSecret {
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes.into())
    }

    /// Accepts any stored length from 128 bits up, so older enrolments keep working.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        let bytes = SecretSlice::from(bytes);
        let len = bytes.expose_secret().len();
        if len < MIN_SECRET_LEN {
            return Err(TotpError::SecretTooShort(len));
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// RFC 4648 base32, upper case, unpadded: the form authenticator apps accept.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(self.as_bytes())
    }

    /// Base32 in groups of four, for people typing the key in by hand.
    pub fn grouped_base32(&self) -> String {
        let mut grouped = String::new();
        for (i, c) in self.to_base32().chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                grouped.push(' ');
            }
            grouped.push(c);
        }
        grouped
    }
}

/// A code as typed by a person, normalised to exactly six ASCII digits. Never printed:
/// an unused code is still a credential for its 30 seconds.
#[derive(Clone, Debug)]
pub struct TotpCode(SecretString);

impl TotpCode {
    /// Drops all whitespace and dashes, since people paste "123 456" or "123-456".
    pub fn parse(input: &str) -> Result<Self, TotpCodeError> {
        let code = crate::shared::codes::compact(input);
        if code.is_empty() {
            return Err(TotpCodeError::Empty);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpCodeError::NotDigits);
        }
        if code.len() != DIGITS {
            return Err(TotpCodeError::WrongLength);
        }
        Ok(Self(code.into()))
    }

    pub fn as_str(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The RFC 6238 code for any parameters; exposed so the RFC's own vectors can check it.
pub fn code_at(
    secret: &[u8],
    algorithm: Algorithm,
    digits: usize,
    step_secs: u64,
    unix_time: u64,
) -> Result<String, TotpError> {
    if step_secs == 0 {
        return Err(TotpError::ZeroStep);
    }
    let totp = Builder::new()
        .with_algorithm(algorithm)
        .with_digits(u8::try_from(digits).unwrap_or(u8::MAX))
        .with_skew(0)
        .with_step_duration(step_secs)
        .with_secret(secret)
        .build()?;
    Ok(totp.generate(unix_time).to_string())
}

/// Accepts the code of the current step or one either side, but only for steps after
/// `last_used_step`, so each code works once. Returns the matched step for the caller
/// to store atomically as the new `last_used_step`.
pub fn verify(
    secret: &TotpSecret,
    code: &TotpCode,
    now_unix: i64,
    last_used_step: Option<i64>,
) -> Result<i64, TotpError> {
    let current = now_unix.div_euclid(STEP_SECS);
    let mut matched = None;
    // Every candidate is computed and compared, so timing does not reveal which matched.
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        if last_used_step.is_some_and(|last| step <= last) {
            continue;
        }
        // Steps before the epoch have no code.
        let Ok(step_index) = u64::try_from(step) else {
            continue;
        };
        let period = STEP_SECS.unsigned_abs();
        let expected = code_at(
            secret.as_bytes(),
            Algorithm::SHA1,
            DIGITS,
            period,
            step_index * period,
        )?;
        if bool::from(expected.as_bytes().ct_eq(code.as_str().as_bytes())) {
            matched = Some(step);
        }
    }
    matched.ok_or(TotpError::InvalidCode)
}

/// The Key URI that authenticator apps read from the enrolment QR code.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account: &str) -> Result<String, TotpError> {
    // Apps split the label on ':', so neither part may contain one.
    if issuer.is_empty() || issuer.contains(':') {
        return Err(TotpError::InvalidIssuer);
    }
    if account.is_empty() || account.contains(':') {
        return Err(TotpError::InvalidAccount);
    }
    let issuer = utf8_percent_encode(issuer, NOT_UNRESERVED);
    let account = utf8_percent_encode(account, NOT_UNRESERVED);
    Ok(format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret.to_base32()
    ))
}

/// Everything but RFC 3986's unreserved characters is encoded, so a space becomes %20,
/// never '+', and '@' in the label is %40, as the Key URI format's examples show.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl From<TotpCodeError> for AuthError {
    fn from(reason: TotpCodeError) -> Self {
        AuthError::invalid_input(Field::Code, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::kernel::clock::{Clock, SystemClock};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const NOW: i64 = 1_700_000_015;

    fn secret() -> TotpSecret {
        TotpSecret::generate(&mut StdRng::seed_from_u64(6238))
    }

    fn code_for_step(secret: &TotpSecret, step: i64) -> TotpCode {
        let time = u64::try_from(step * STEP_SECS).unwrap();
        let code = code_at(secret.as_bytes(), Algorithm::SHA1, DIGITS, 30, time).unwrap();
        TotpCode::parse(&code).unwrap()
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let sha1 = b"12345678901234567890".as_slice();
        let sha256 = b"12345678901234567890123456789012".as_slice();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".as_slice();
        let vectors = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, want1, want256, want512) in vectors {
            let at = |seed, alg| code_at(seed, alg, 8, 30, time).unwrap();
            assert_eq!(at(sha1, Algorithm::SHA1), want1, "SHA1 at {time}");
            assert_eq!(at(sha256, Algorithm::SHA256), want256, "SHA256 at {time}");
            assert_eq!(at(sha512, Algorithm::SHA512), want512, "SHA512 at {time}");
        }
    }

    #[test]
    fn code_at_rejects_zero_step() {
        let result = code_at(&[0; 20], Algorithm::SHA1, 6, 0, 59);
        assert!(matches!(result, Err(TotpError::ZeroStep)));
    }

    #[test]
    fn skew_of_one_step_is_accepted_and_two_is_not() {
        let secret = secret();
        let now_step = NOW / STEP_SECS;
        for offset in [-1, 0, 1] {
            let code = code_for_step(&secret, now_step + offset);
            assert_eq!(
                verify(&secret, &code, NOW, None).unwrap(),
                now_step + offset
            );
        }
        for offset in [-2, 2] {
            let code = code_for_step(&secret, now_step + offset);
            assert!(matches!(
                verify(&secret, &code, NOW, None),
                Err(TotpError::InvalidCode)
            ));
        }
    }

    #[test]
    fn a_code_is_accepted_only_once() {
        let secret = secret();
        let code = code_for_step(&secret, NOW / STEP_SECS);
        let step = verify(&secret, &code, NOW, None).unwrap();
        let replay = verify(&secret, &code, NOW, Some(step)).unwrap_err();
        let wrong = verify(&secret, &TotpCode::parse("000000").unwrap(), NOW, None).unwrap_err();
        assert!(matches!(replay, TotpError::InvalidCode));
        assert_eq!(replay.to_string(), wrong.to_string());
    }

    #[test]
    fn steps_up_to_the_last_used_one_fail_even_within_skew() {
        let secret = secret();
        let n = NOW / STEP_SECS;
        for step in [n - 1, n] {
            let code = code_for_step(&secret, step);
            assert!(verify(&secret, &code, NOW, Some(n)).is_err(), "step {step}");
        }
        let next = code_for_step(&secret, n + 1);
        assert_eq!(verify(&secret, &next, NOW, Some(n)).unwrap(), n + 1);
    }

    #[test]
    fn steps_before_the_epoch_are_skipped() {
        let secret = secret();
        assert_eq!(
            verify(&secret, &code_for_step(&secret, 0), 5, None).unwrap(),
            0
        );
    }

    #[test]
    fn code_parsing_normalises_and_explains_errors() {
        assert_eq!(TotpCode::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert_eq!(TotpCode::parse("123-456").unwrap().as_str(), "123456");
        assert_eq!(TotpCode::parse("").unwrap_err(), TotpCodeError::Empty);
        assert_eq!(TotpCode::parse(" - ").unwrap_err(), TotpCodeError::Empty);
        assert_eq!(
            TotpCode::parse("12345").unwrap_err(),
            TotpCodeError::WrongLength
        );
        assert_eq!(
            TotpCode::parse("1234567").unwrap_err(),
            TotpCodeError::WrongLength
        );
        assert_eq!(
            TotpCode::parse("12a456").unwrap_err(),
            TotpCodeError::NotDigits
        );
        assert_eq!(
            TotpCodeError::Empty.to_string(),
            "Enter the 6-digit code from your authenticator app."
        );
        assert_eq!(
            TotpCodeError::WrongLength.to_string(),
            "The code must be exactly 6 digits."
        );
    }

    #[test]
    fn otpauth_uri_encodes_label_and_states_parameters() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap();
        let uri = otpauth_uri(&secret, "Gatehouse Demo", "alice@example.com").unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/Gatehouse%20Demo:alice%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse%20Demo\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn otpauth_uri_rejects_colons_and_empty_parts() {
        let secret = secret();
        for issuer in ["Gate:house", ""] {
            let result = otpauth_uri(&secret, issuer, "alice@example.com");
            assert!(
                matches!(result, Err(TotpError::InvalidIssuer)),
                "{issuer:?}"
            );
        }
        for account in ["a:b", ""] {
            let result = otpauth_uri(&secret, "Gatehouse", account);
            assert!(
                matches!(result, Err(TotpError::InvalidAccount)),
                "{account:?}"
            );
        }
    }

    #[test]
    fn base32_round_trips_and_groups_by_four() {
        let secret = secret();
        let encoded = secret.to_base32();
        assert_eq!(encoded.len(), 32);
        assert_eq!(encoded, encoded.to_ascii_uppercase());
        assert!(!encoded.contains('='));
        let decoded = BASE32_NOPAD.decode(encoded.as_bytes()).unwrap();
        assert_eq!(decoded, secret.as_bytes());

        let grouped = secret.grouped_base32();
        assert!(grouped.split(' ').all(|group| group.len() == 4));
        assert_eq!(grouped.split(' ').count(), 8);
        assert_eq!(grouped.replace(' ', ""), encoded);
    }

    #[test]
    fn generated_secret_is_160_random_bits() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = TotpSecret::generate(&mut rng);
        let b = TotpSecret::generate(&mut rng);
        assert_eq!(a.as_bytes().len() * 8, 160);
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn from_bytes_enforces_128_bit_minimum() {
        assert!(matches!(
            TotpSecret::from_bytes(vec![1; 15]),
            Err(TotpError::SecretTooShort(15))
        ));
        assert_eq!(
            TotpSecret::from_bytes(vec![1; 16])
                .unwrap()
                .as_bytes()
                .len(),
            16
        );
        assert_eq!(
            TotpSecret::from_bytes(vec![1; 32])
                .unwrap()
                .as_bytes()
                .len(),
            32
        );
    }

    #[test]
    fn debug_output_is_redacted() {
        let secret = secret();
        let shown = format!("{secret:?}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(!shown.contains(&secret.to_base32()));
        assert!(!shown.contains(&format!("{:?}", secret.as_bytes())));
        let code = TotpCode::parse("123456").unwrap();
        assert!(!format!("{code:?}").contains("123456"));
    }

    #[test]
    fn accepts_codes_from_oathtool() {
        let secret = secret();
        // scripts/setup.sh installs oathtool, an implementation independent of ours.
        let output = std::process::Command::new("oathtool")
            .args(["--totp", "-b", &secret.to_base32()])
            .output()
            .expect("oathtool is installed by scripts/setup.sh --test");
        assert!(output.status.success(), "oathtool failed: {output:?}");
        let code = TotpCode::parse(&String::from_utf8(output.stdout).unwrap()).unwrap();
        assert!(verify(&secret, &code, SystemClock.now(), None).is_ok());
    }
}
