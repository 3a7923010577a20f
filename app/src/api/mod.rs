//! Server functions: thin adapters from HTTP to the domain.
//!
//! Each one reads the session, calls one domain function, and maps the result. The types
//! here cross the wire, so they hold only what a page shows.

pub mod account;
pub mod activity;
pub mod email;
pub mod passkeys;
pub mod sessions;
pub mod social;
pub mod two_factor;
