//! The credentials themselves, as pure values: passwords, TOTP secrets and codes,
//! recovery codes, and sealing under the server key.

pub mod password;
pub mod proofs;
pub mod recovery_codes;
pub mod sealing;
pub mod totp;
