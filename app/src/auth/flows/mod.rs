//! What a person does: sign up and sign in, the code prompt, enrolling an authenticator
//! app, passkeys, providers, emailed links, two-factor policy and admin recovery.

pub mod accounts;
pub mod admin;
pub mod code_prompt;
pub mod email;
pub mod passkeys;
pub mod sign_in;
pub mod social;
pub mod totp_enrollment;
pub mod two_factor_policy;
