//! What every flow passes through: attempt limits, sessions and remembered devices, the
//! audit log, the mail outbox and its notices, emailed-link tokens, WebAuthn ceremonies
//! and the server key.
//!
//! Mail is written to the outbox in the same transaction as the change that causes it,
//! sealed under the server key, and a worker in each instance sends what is due. A mail
//! server that is away delays messages; it never loses them.

pub mod account;
pub mod audit;
pub mod ceremonies;
pub mod code_handoff;
pub mod email_tokens;
pub mod notices;
pub mod outbox;
pub mod passkey_assertion;
pub mod remembered_devices;
pub mod server_key;
pub mod sessions;
pub mod sweep;
pub mod throttle;
