//! A model's price as the config file gives it
//! (`[prices."provider@model"]`): what is spent is reckoned in
//! [`crate::team::prices`].

use serde::{Deserialize, Serialize};

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Input read from the provider's prompt cache; unset: `input`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    /// Input written to the prompt cache; unset: `input`'s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// The most a price may be, in USD per million tokens: beyond it a price
/// is a typo.
const MOST: f64 = 100_000.0;

impl Price {
    pub const fn new(input: f64, output: f64, cache_read: f64, cache_write: f64) -> Price {
        Price {
            input,
            output,
            cache_read: Some(cache_read),
            cache_write: Some(cache_write),
        }
    }

    /// What is wrong with it, by field; `None` when it is sound.
    pub fn problem(&self) -> Option<String> {
        let fields = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
        ];
        fields.into_iter().find_map(|(name, value)| {
            value
                .filter(|v| !(v.is_finite() && (0.0..=MOST).contains(v)))
                .map(|_| {
                    format!("{name}: must be a number of USD per million tokens from 0 to {MOST}")
                })
        })
    }
}
