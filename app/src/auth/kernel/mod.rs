//! The bottom of the domain: errors, time, randomness, tokens and the small values every
//! tier names. Nothing here does I/O or knows `Services`.

pub mod client;
pub mod clock;
pub mod email_address;
pub mod error;
pub mod fail_points;
pub mod metrics;
pub mod public_url;
pub mod random;
pub mod tokens;
pub mod user_agent;
