//! The integration tests, one binary: each module is one area, and every test starts the
//! real server binary (`common`) as a child process on a free port with a fresh database
//! (`test_providers` tests only the identity providers the others sign in with).
//!
//! Run one area with `cargo test -p server --test it social::`.

mod common;

mod accounts;
mod attacks;
mod bad_input;
mod bad_input_props;
mod clients;
mod durability;
mod email;
mod factor_change;
mod http_hardening;
mod instances;
mod key_rotation;
mod leaks;
mod observability;
mod outage;
mod parallel_attacks;
mod passkeys;
mod policy;
mod public_url;
mod remembered_devices;
mod server_key;
mod sessions;
mod social;
mod test_providers;
mod timing;
mod two_factor;
