use std::collections::BTreeMap;

use super::*;

#[test]
fn cost_is_usage_times_price_with_cache_reads_and_writes_apart() {
    let sonnet = Price::new(3.0, 15.0, 0.30, 3.75);
    let usage = Usage {
        input: 1_000,
        output: 200,
        cache_read: 10_000,
        cache_write: 2_000,
    };
    // 1000×3 + 200×15 + 10000×0.3 + 2000×3.75 = 16,500 USD per 10⁶ tokens·…
    assert_eq!(cost_nanos(&sonnet, &usage), 16_500_000);
    // Unset cache prices are input's.
    let plain = Price {
        input: 2.0,
        output: 8.0,
        cache_read: None,
        cache_write: None,
    };
    assert_eq!(cost_nanos(&plain, &usage), (13_000 * 2 + 200 * 8) * 1000);
}

#[test]
fn exact_names_win_over_globs_and_dated_models_find_their_family() {
    let prices = Prices::build(&BTreeMap::new()).unwrap();
    let sonnet = prices
        .get("anthropic", "claude-sonnet-4-5-20250929")
        .unwrap();
    assert_eq!(sonnet.input, 3.0);
    let lite = prices.get("gemini", "gemini-2.5-flash-lite").unwrap();
    assert_eq!(lite.input, 0.10, "the longer glob is more specific");
    assert_eq!(
        prices.get("gemini", "gemini-2.5-flash").unwrap().input,
        0.30
    );
    assert_eq!(prices.get("openai", "gpt-4.1-mini").unwrap().input, 0.40);
    assert_eq!(prices.get("ollama", "llama3").unwrap().input, 0.0);
    assert!(prices.get("openai", "a-model-nobody-priced").is_none());
    assert!(prices.get("ollama-cloud", "gpt-oss:120b").is_none());
    // Asked twice, answered from the memo the same way.
    assert!(prices.get("openai", "a-model-nobody-priced").is_none());
}

#[test]
fn the_config_sets_and_overrides_prices_and_refuses_unsound_ones() {
    let mut configured = BTreeMap::new();
    configured.insert(
        "gemini@gemini-2.5-pro".to_owned(),
        Price::new(2.0, 12.0, 0.2, 2.0),
    );
    configured.insert(
        "custom@my-model-*".to_owned(),
        Price::new(1.0, 1.0, 1.0, 1.0),
    );
    let prices = Prices::build(&configured).unwrap();
    assert_eq!(prices.get("gemini", "gemini-2.5-pro").unwrap().input, 2.0);
    assert_eq!(
        prices
            .get("gemini", "gemini-2.5-pro-preview")
            .unwrap()
            .input,
        1.25,
        "the shipped glob still prices what the override does not name"
    );
    assert!(prices.get("custom", "my-model-7b").is_some());

    let mut bad = BTreeMap::new();
    bad.insert("openai@gpt-4.1".to_owned(), Price::new(-1.0, 8.0, 0.5, 2.0));
    let err = Prices::build(&bad).unwrap_err();
    assert!(err.starts_with("prices.\"openai@gpt-4.1\".input"), "{err}");
    let mut nameless = BTreeMap::new();
    nameless.insert("gpt-4.1".to_owned(), Price::new(1.0, 1.0, 1.0, 1.0));
    assert!(Prices::build(&nameless)
        .unwrap_err()
        .contains("PROVIDER@MODEL"));
}

#[test]
fn every_shipped_price_is_sound_and_names_a_provider() {
    for (name, price) in shipped::prices() {
        assert!(price.problem().is_none(), "{name}");
        assert!(name.contains('@'), "{name}");
    }
}
