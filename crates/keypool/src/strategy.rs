//! Key selection strategies.

use serde::{Deserialize, Serialize};

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
