//! The operating system's random number generator, for keys, tokens, nonces and codes.
//!
//! rand 0.10 has no `OsRng`: its `SysRng` is fallible, so it is not the `CryptoRng` that
//! sealing, TOTP secrets and recovery codes take. Wrapping it here keeps what an OS
//! failure does (a panic, as with rand 0.8's `OsRng`) in one place, not at every call.

use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use rand::Rng as _;

/// Reads the OS on every call; panics if the OS cannot supply randomness.
pub fn os_rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

/// Fills `bytes` from the OS; panics if the OS cannot supply randomness.
pub fn fill(bytes: &mut [u8]) {
    os_rng().fill_bytes(bytes);
}
