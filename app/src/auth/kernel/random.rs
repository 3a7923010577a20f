//! Where the domain's randomness comes from, injected through `Services` as time is, so
//! a test can fix it: the operating system's generator in production.
//!
//! rand 0.10 has no `OsRng`: its `SysRng` is fallible, so it is not the `CryptoRng` that
//! sealing, TOTP secrets and recovery codes take. [`Draw`] is that `CryptoRng`, over any
//! [`Entropy`]; what an OS failure does (a panic, as with rand 0.8's `OsRng`) is decided
//! here once, not at every call.

use std::convert::Infallible;

use rand::rand_core::{TryCryptoRng, TryRng, UnwrapErr};
use rand::rngs::SysRng;
use rand::Rng as _;

/// A source of unpredictable bytes for keys, tokens, nonces and codes.
pub trait Entropy: Send + Sync + 'static {
    /// Fills `bytes` entirely; panics if no randomness can be had.
    fn fill(&self, bytes: &mut [u8]);
}

/// The operating system's generator, read on every call.
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, bytes: &mut [u8]) {
        UnwrapErr(SysRng).fill_bytes(bytes);
    }
}

/// An [`Entropy`] seen as a `CryptoRng`: every draw is read from it.
pub struct Draw<'a>(&'a dyn Entropy);

impl<'a> Draw<'a> {
    pub fn from(entropy: &'a dyn Entropy) -> Self {
        Draw(entropy)
    }
}

impl TryRng for Draw<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0; 4];
        self.0.fill(&mut bytes);
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0; 8];
        self.0.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

/// Only as unpredictable as the [`Entropy`] behind it, which is the OS's outside tests.
impl TryCryptoRng for Draw<'_> {}
