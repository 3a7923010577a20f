//! What both targets share, below every other module of the crate, none of which it
//! imports: route paths, the rules of typed codes, the words people read, the wire
//! error, provider refusals, the recovery codes' file and the prefetch handle.

pub mod codes;
pub mod error;
pub mod paths;
pub mod prefetch;
pub mod provider_refusal;
pub mod recovery_file;
pub mod words;
