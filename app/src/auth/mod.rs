//! The server-only domain: who a person is and how they prove it.
//!
//! Its tiers import only the tiers below them (see docs/architecture.md): the kernel's
//! small pure pieces, the credentials themselves, the adapters to the outside world,
//! `Services` that holds them, the guards every flow passes (throttle, sessions, audit,
//! mail), the capabilities flows share (the second factor, "confirm it's you", a factor
//! change), and the flows at the top.

pub mod adapters;
pub mod capabilities;
pub mod credentials;
pub mod flows;
pub mod guards;
pub mod kernel;
pub mod services;
#[cfg(test)]
pub mod testing;
