//! The clock and the random-ID source, passed into domain code so that it
//! runs the same under `cargo test` as in a Worker.

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};

/// What time it is. Workers read `Date.now()`, tests freeze it.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// A source of unpredictable bytes (tokens, IDs, request ids).
pub trait IdSource {
    /// Fills `buf` with random bytes, or fails: a token must never be guessable,
    /// so there is no weak fallback.
    fn fill(&self, buf: &mut [u8]) -> ApiResult<()>;

    /// `n` random bytes as lowercase hex.
    fn hex(&self, n: usize) -> ApiResult<String> {
        let mut buf = vec![0u8; n];
        self.fill(&mut buf)?;
        Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// A clock frozen at one instant, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// The platform's random source: `crypto.getRandomValues` on Workers
/// (getrandom's `wasm_js` backend), the OS elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl IdSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> ApiResult<()> {
        getrandom::fill(buf).map_err(|e| ApiError::internal(format!("random source failed: {e}")))
    }
}

/// A deterministic source for tests: counts up from a seed.
#[derive(Debug, Default)]
pub struct SeqIds(pub std::cell::Cell<u8>);

impl IdSource for SeqIds {
    fn fill(&self, buf: &mut [u8]) -> ApiResult<()> {
        for b in buf {
            let v = self.0.get().wrapping_add(1);
            self.0.set(v);
            *b = v;
        }
        Ok(())
    }
}

/// The system clock for native tools (not available on wasm32; Workers use
/// the edge clock in `edge`).
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from(std::time::SystemTime::now())
    }
}
