//! What tokens cost, per `provider@model`: the prices that ship with
//! keyrelay ([`shipped`]), then `[prices."provider@model"]` from the config
//! file over them. A name may be a glob (`anthropic@claude-sonnet-4-5*`
//! also prices the dated `claude-sonnet-4-5-20250929`); an exact name wins,
//! then the most specific glob. A model with no price is unpriced: its
//! tokens count, its cost is unknown (never 0).

mod shipped;

use std::collections::{BTreeMap, HashMap};

pub use crate::config::Price;
pub use shipped::TAKEN;

use super::usage::Usage;
use crate::route::glob_match;

/// What `usage` costs, in nano-USD (one token at $1 per million is 1,000).
pub fn cost_nanos(price: &Price, usage: &Usage) -> u64 {
    let per_million = usage.input as f64 * price.input
        + usage.output as f64 * price.output
        + usage.cache_read as f64 * price.cache_read.unwrap_or(price.input)
        + usage.cache_write as f64 * price.cache_write.unwrap_or(price.input);
    // Float multiplication of exact decimals: round to the nearest nano-USD.
    (per_million * 1000.0).round().clamp(0.0, u64::MAX as f64) as u64
}

/// Every price keyrelay knows.
#[derive(Debug, Default)]
pub struct Prices {
    /// Tells this set of prices apart from the ones before a reload.
    id: u64,
    exact: HashMap<String, Price>,
    /// Most specific first.
    globs: Vec<(String, Price)>,
}

/// Lookups each thread keeps at most; then its memo starts over (models are
/// few, but a client names them).
const MEMO_LIMIT: usize = 4096;

/// A thread's memo of lookups made: provider → model → price, for the
/// prices with id `of`. Each thread has its own, so a lookup takes no lock.
#[derive(Default)]
struct Memo {
    of: u64,
    found: HashMap<String, HashMap<String, Option<Price>>>,
    len: usize,
}

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::default();
}

impl Prices {
    /// The shipped prices with `configured` over them. An unsound price is
    /// refused with its name and field.
    pub fn build(configured: &BTreeMap<String, Price>) -> Result<Prices, String> {
        let mut all: BTreeMap<String, Price> = shipped::prices()
            .iter()
            .map(|(name, price)| ((*name).to_owned(), *price))
            .collect();
        for (name, price) in configured {
            if let Some(problem) = price.problem() {
                return Err(format!("prices.\"{name}\".{problem}"));
            }
            if !name.contains('@') || name.trim() != name || name.is_empty() {
                return Err(format!(
                    "prices.\"{name}\": name it as PROVIDER@MODEL (a glob such as gemini@gemini-2.5-pro* is fine)"
                ));
            }
            all.insert(name.clone(), *price);
        }
        let (globs, exact): (Vec<_>, Vec<_>) = all
            .into_iter()
            .partition(|(name, _)| name.contains(['*', '?']));
        let mut globs = globs;
        globs.sort_by_key(|(pattern, _)| {
            let wild = pattern.chars().filter(|c| *c == '*' || *c == '?').count();
            (wild, std::cmp::Reverse(pattern.len()))
        });
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Prices {
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            exact: exact.into_iter().collect(),
            globs,
        })
    }

    /// The price of `model` on `provider`, if keyrelay has one.
    pub fn get(&self, provider: &str, model: &str) -> Option<Price> {
        MEMO.with_borrow_mut(|memo| {
            if memo.of != self.id || memo.len >= MEMO_LIMIT {
                *memo = Memo {
                    of: self.id,
                    ..Memo::default()
                };
            }
            if let Some(found) = memo.found.get(provider).and_then(|m| m.get(model)) {
                return *found;
            }
            let price = self.look_up(provider, model);
            memo.len += 1;
            memo.found
                .entry(provider.to_owned())
                .or_default()
                .insert(model.to_owned(), price);
            price
        })
    }

    fn look_up(&self, provider: &str, model: &str) -> Option<Price> {
        let name = format!("{provider}@{model}");
        self.exact.get(&name).copied().or_else(|| {
            self.globs
                .iter()
                .find(|(pattern, _)| glob_match(pattern, &name))
                .map(|(_, price)| *price)
        })
    }

    /// Every name with a price, exact and glob, for `/admin/prices`-like views.
    pub fn listed(&self) -> BTreeMap<String, Price> {
        self.exact
            .iter()
            .map(|(n, p)| (n.clone(), *p))
            .chain(self.globs.iter().cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests;
