//! The emailed-link flows: verifying an address, changing it, and resetting a password.

pub mod address_change;
pub mod password_reset;
pub mod verification;
