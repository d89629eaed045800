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
        let mut out = String::with_capacity(2 * n);
        for b in buf {
            for nibble in [b >> 4, b & 0xf] {
                out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        }
        Ok(out)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Counting;
    impl IdSource for Counting {
        fn fill(&self, buf: &mut [u8]) -> ApiResult<()> {
            buf.iter_mut().zip([0x00u8, 0x0f, 0xa5, 0xff, 0x10]).for_each(|(b, v)| *b = v);
            Ok(())
        }
    }

    #[test]
    fn hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(Counting.hex(5).unwrap(), "000fa5ff10");
        assert_eq!(Counting.hex(0).unwrap(), "");
        let h = OsRandom.hex(16).unwrap();
        assert!(h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
