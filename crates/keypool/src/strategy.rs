//! Key selection strategies, and where each is in its rotation.

use serde::{Deserialize, Serialize};

use crate::outcome::OutcomeClass;

/// How a pool chooses among its available keys. Whatever the strategy, a
/// cooling or disabled key is never chosen while an available one exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Keep using the key that last worked (good for providers' prompt caches);
    /// move on only when it fails.
    #[default]
    Sticky,
    /// Spread requests evenly, one key after the other.
    RoundRobin,
    /// The key with the fewest requests in flight, then the fewest made.
    LeastUsed,
    /// Smooth weighted round robin by each key's weight.
    Weighted,
}

impl std::str::FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().replace('-', "_").as_str() {
            "sticky" => Ok(Strategy::Sticky),
            "round_robin" => Ok(Strategy::RoundRobin),
            "least_used" => Ok(Strategy::LeastUsed),
            "weighted" => Ok(Strategy::Weighted),
            other => Err(format!(
                "unknown strategy `{other}` (expected sticky, round_robin, least_used or weighted)"
            )),
        }
    }
}

/// A session name as the number rendezvous hashing works with. Stable across
/// processes and builds, so every replica sends a session to the same key.
pub fn session_hash(session: &str) -> u64 {
    // FNV-1a, then a final mix so similar names spread.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in session.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(hash)
}

/// SplitMix64's finaliser: every input bit reaches every output bit.
pub(crate) fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Rendezvous (highest random weight) hashing: the usable key whose
/// combination with `session` scores highest. When a key drops out, only
/// the sessions it held move, each to its own next-best key; the others stay.
pub(crate) fn rendezvous(
    session: u64,
    keys: usize,
    usable: impl Fn(usize) -> bool,
    key_hash: impl Fn(usize) -> u64,
) -> Option<usize> {
    (0..keys)
        .filter(|&i| usable(i))
        .max_by_key(|&i| (mix(session ^ key_hash(i)), i))
}

/// Where each strategy is in its rotation over a pool's keys (by index).
#[derive(Debug)]
pub(crate) struct Rotation {
    /// Sticky: the key requests start with. Moves only by compare-and-swap
    /// ([`Rotation::settle`]).
    cursor: usize,
    /// Round robin: where the next request starts looking.
    next: usize,
    /// Weighted: smooth weighted round robin's running weights.
    current_weight: Vec<i64>,
}

impl Rotation {
    pub(crate) fn new(keys: usize) -> Self {
        Rotation {
            cursor: 0,
            next: 0,
            current_weight: vec![0; keys],
        }
    }

    /// The sticky cursor's key.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    pub(crate) fn set_cursor(&mut self, index: usize) {
        self.cursor = index;
    }

    /// The key `strategy` chooses among those for which `usable(i)`; `None`
    /// when there is none. `usage(i)` is key `i`'s (requests in flight,
    /// requests made), `weight(i)` its weight (0 counts as 1).
    pub(crate) fn choose(
        &mut self,
        strategy: Strategy,
        usable: impl Fn(usize) -> bool,
        usage: impl Fn(usize) -> (u32, u64),
        weight: impl Fn(usize) -> u32,
    ) -> Option<usize> {
        let n = self.current_weight.len();
        match strategy {
            Strategy::Sticky => (0..n).map(|k| (self.cursor + k) % n).find(|&i| usable(i)),
            Strategy::RoundRobin => {
                let found = (0..n).map(|k| (self.next + k) % n).find(|&i| usable(i));
                if let Some(i) = found {
                    self.next = (i + 1) % n;
                }
                found
            }
            Strategy::LeastUsed => (0..n).filter(|&i| usable(i)).min_by_key(|&i| {
                let (inflight, made) = usage(i);
                (inflight, made, i)
            }),
            Strategy::Weighted => {
                let weight = |i: usize| i64::from(weight(i).max(1));
                let total: i64 = (0..n).filter(|&i| usable(i)).map(weight).sum();
                let mut best = None::<usize>;
                for i in (0..n).filter(|&i| usable(i)) {
                    self.current_weight[i] += weight(i);
                    if best.is_none_or(|b| self.current_weight[i] > self.current_weight[b]) {
                        best = Some(i);
                    }
                }
                if let Some(b) = best {
                    self.current_weight[b] -= total;
                }
                best
            }
        }
    }

    /// Moves the sticky cursor after an attempt on key `index` ended in
    /// `class`: a failure moves it off the failing key only if it still points
    /// there (so a burst of failures on one key moves it once), to the next
    /// key for which `available(i)`; a success brings it to the working key
    /// only if the cursor's key is out.
    pub(crate) fn settle(
        &mut self,
        index: usize,
        class: OutcomeClass,
        available: impl Fn(usize) -> bool,
    ) {
        let n = self.current_weight.len();
        if class.rotates() && self.cursor == index {
            if let Some(next) = (1..n).map(|k| (index + k) % n).find(|&i| available(i)) {
                self.cursor = next;
            }
        } else if class == OutcomeClass::Success && !available(self.cursor) {
            self.cursor = index;
        }
    }
}
