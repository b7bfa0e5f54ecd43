//! Requests per minute per key (an IP address, an account), in memory.

use crate::error::{AppError, AppResult};

/// Requests per minute per key (GCRA from `governor`: the whole allowance at once, then
/// refilled evenly over the minute), in memory: each instance counts its own; the account lock
/// is shared through the database.
pub struct RateLimiter {
    keys: governor::DefaultKeyedRateLimiter<String>,
}

impl RateLimiter {
    /// Keys remembered before the idle ones are dropped.
    const MAX_KEYS: usize = 100_000;

    pub fn per_minute(limit: u32) -> Self {
        let limit = std::num::NonZeroU32::new(limit).unwrap_or(std::num::NonZeroU32::MIN);
        RateLimiter {
            keys: governor::RateLimiter::keyed(governor::Quota::per_minute(limit)),
        }
    }

    pub fn hit(&self, key: String) -> AppResult<()> {
        if self.keys.len() > Self::MAX_KEYS {
            self.keys.retain_recent();
        }
        self.keys.check_key(&key).map_err(|_| AppError::RateLimited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limiter_refuses_past_the_limit_per_key() {
        let limiter = RateLimiter::per_minute(3);
        for _ in 0..3 {
            limiter.hit("a".into()).unwrap();
        }
        assert_eq!(limiter.hit("a".into()).unwrap_err().code(), "RATE_LIMITED");
        limiter.hit("b".into()).unwrap();
    }
}
