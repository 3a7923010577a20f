//! How a round trip's state, its binding cookie and a sign-up's link are stored: as keyed
//! hashes, each under a label of its own.

use crate::auth::{kernel::tokens, services::Services};

/// States and binding cookies are stored only as keyed hashes, each under its own label.
pub(crate) fn keyed_hash(services: &Services, label: &str, value: &str) -> Vec<u8> {
    tokens::keyed_hash(
        &services.keys.hashing,
        &[b"social-flow/", label.as_bytes(), b"/", value.as_bytes()],
    )
}
