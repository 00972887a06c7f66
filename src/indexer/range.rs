//! Adaptive `eth_getLogs` ranges: grow while calls are fast and small, shrink when the node refuses a range as
//! too large or times out, never below one block.

use std::time::Duration;

/// Chooses the next block range size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSizer {
    size: u64,
    max: u64,
}

/// A call under this long with fewer events than [`BUSY_EVENTS`] grows the range (at most doubling it).
pub const FAST: Duration = Duration::from_millis(1_000);
/// A call over this long halves the range.
pub const SLOW: Duration = Duration::from_millis(5_000);
/// The number of events a range aims at: ranges grow (at most doubling) or shrink in proportion to what the
/// last call returned, so a write transaction stays small enough to overlap with the next fetches.
pub const BUSY_EVENTS: usize = 20_000;

impl RangeSizer {
    /// Starts at `initial` blocks, never above `max`.
    pub fn new(initial: u64, max: u64) -> Self {
        Self {
            size: initial.clamp(1, max.max(1)),
            max: max.max(1),
        }
    }

    /// Blocks to ask for next.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adjusts after a successful call that took `elapsed` and returned `events`.
    pub fn on_success(&mut self, elapsed: Duration, events: usize) {
        let in_proportion =
            |size: u64| (size as u128 * BUSY_EVENTS as u128 / events.max(1) as u128) as u64;
        if events > BUSY_EVENTS {
            self.size = in_proportion(self.size).clamp(1, self.size);
        } else if elapsed >= SLOW {
            self.size = (self.size / 2).max(1);
        } else if elapsed < FAST && events < BUSY_EVENTS {
            let doubled = self.size.saturating_mul(2);
            self.size = in_proportion(self.size)
                .clamp(self.size, doubled)
                .min(self.max);
        }
    }

    /// Halves after the node refused the range; false when it is already one block.
    pub fn on_too_large(&mut self) -> bool {
        if self.size == 1 {
            return false;
        }
        self.size = (self.size / 2).max(1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_grows_when_fast_and_shrinks_when_refused() {
        let ms = Duration::from_millis;
        // (start, action, expected size after)
        let cases: [(u64, &str, u64); 10] = [
            (1_000, "fast", 2_000),
            (40_000, "fast", 50_000),
            (50_000, "fast", 50_000),
            (1_000, "busy", 1_000),
            (1_000, "slow", 500),
            (1_000, "refused", 500),
            (1, "slow", 1),
            (1_000, "flood", 100),
            (1_000, "dense", 1_333),
            (1_000, "crowded", 666),
        ];
        for (start, action, want) in cases {
            let mut s = RangeSizer::new(start, 50_000);
            match action {
                "fast" => s.on_success(ms(10), 10),
                "busy" => s.on_success(ms(10), BUSY_EVENTS),
                "slow" => s.on_success(ms(6_000), 10),
                "flood" => s.on_success(ms(10), 10 * BUSY_EVENTS),
                "dense" => s.on_success(ms(10), BUSY_EVENTS * 3 / 4),
                "crowded" => s.on_success(ms(10), BUSY_EVENTS * 3 / 2),
                _ => assert!(s.on_too_large()),
            }
            assert_eq!(s.size(), want, "{start} {action}");
        }
        let mut one = RangeSizer::new(1, 10);
        assert!(!one.on_too_large(), "one block cannot shrink");
        assert_eq!(RangeSizer::new(0, 10).size(), 1);
        assert_eq!(RangeSizer::new(100, 10).size(), 10);
    }
}
