//! The prices keyrelay ships: list prices of the common models of each
//! built-in provider, in USD per million tokens (input, output, cache read,
//! cache write), as the providers' pricing pages gave them on [`TAKEN`].
//! Standard tier only: Anthropic's and Gemini's prices for prompts over
//! 200k tokens, batch discounts and Gemini's cache storage per hour are not
//! here. Where a provider does not bill cache writes apart (OpenAI,
//! Gemini), a cache write costs what input costs. Set or override any of
//! them with `[prices."provider@model"]` in the config file.
//!
//! ollama-cloud (a subscription) and litellm (whatever it proxies) have no
//! per-token prices here; local servers cost nothing per token.

use super::Price;

/// When these prices were read off the providers' pricing pages.
pub const TAKEN: &str = "2025-12-01";

const fn p(input: f64, output: f64, cache_read: f64, cache_write: f64) -> Price {
    Price::new(input, output, cache_read, cache_write)
}

/// Anthropic: cache writes are the 5-minute writes (1.25 × input).
const OPUS_4_5: Price = p(5.0, 25.0, 0.50, 6.25);
const OPUS_4: Price = p(15.0, 75.0, 1.50, 18.75);
const SONNET: Price = p(3.0, 15.0, 0.30, 3.75);
const HAIKU_4_5: Price = p(1.0, 5.0, 0.10, 1.25);
const HAIKU_3_5: Price = p(0.80, 4.0, 0.08, 1.0);
const HAIKU_3: Price = p(0.25, 1.25, 0.03, 0.30);

const GPT_5: Price = p(1.25, 10.0, 0.125, 1.25);
const GPT_5_MINI: Price = p(0.25, 2.0, 0.025, 0.25);
const GPT_5_NANO: Price = p(0.05, 0.40, 0.005, 0.05);
const GPT_4_1: Price = p(2.0, 8.0, 0.50, 2.0);
const GPT_4_1_MINI: Price = p(0.40, 1.60, 0.10, 0.40);
const GPT_4_1_NANO: Price = p(0.10, 0.40, 0.025, 0.10);
const GPT_4O: Price = p(2.50, 10.0, 1.25, 2.50);
const GPT_4O_MINI: Price = p(0.15, 0.60, 0.075, 0.15);
const O3: Price = p(2.0, 8.0, 0.50, 2.0);
const O4_MINI: Price = p(1.10, 4.40, 0.275, 1.10);
const O3_MINI: Price = p(1.10, 4.40, 0.55, 1.10);

/// Gemini: prompts up to 200k tokens; cached input is read at 10 % of input.
const GEMINI_2_5_PRO: Price = p(1.25, 10.0, 0.125, 1.25);
const GEMINI_2_5_FLASH: Price = p(0.30, 2.50, 0.03, 0.30);
const GEMINI_2_5_FLASH_LITE: Price = p(0.10, 0.40, 0.01, 0.10);
const GEMINI_2_0_FLASH: Price = p(0.10, 0.40, 0.025, 0.10);
const GEMINI_2_0_FLASH_LITE: Price = p(0.075, 0.30, 0.075, 0.075);

/// Embeddings: input tokens only (an embedding has no output tokens).
const fn embedding(input: f64) -> Price {
    p(input, 0.0, input, input)
}
const TEXT_EMBEDDING_3_SMALL: Price = embedding(0.02);
const TEXT_EMBEDDING_3_LARGE: Price = embedding(0.13);
const GEMINI_EMBEDDING_001: Price = embedding(0.15);

const FREE: Price = p(0.0, 0.0, 0.0, 0.0);

/// Names (exact or glob) and prices.
pub fn prices() -> &'static [(&'static str, Price)] {
    &[
        ("anthropic@claude-opus-4-5*", OPUS_4_5),
        ("anthropic@claude-opus-4-1*", OPUS_4),
        ("anthropic@claude-opus-4-0", OPUS_4),
        ("anthropic@claude-opus-4-2025*", OPUS_4),
        ("anthropic@claude-sonnet-4-5*", SONNET),
        ("anthropic@claude-sonnet-4-0", SONNET),
        ("anthropic@claude-sonnet-4-2025*", SONNET),
        ("anthropic@claude-3-7-sonnet*", SONNET),
        ("anthropic@claude-haiku-4-5*", HAIKU_4_5),
        ("anthropic@claude-3-5-haiku*", HAIKU_3_5),
        ("anthropic@claude-3-haiku*", HAIKU_3),
        ("openai@gpt-5", GPT_5),
        ("openai@gpt-5-2025*", GPT_5),
        ("openai@gpt-5-mini*", GPT_5_MINI),
        ("openai@gpt-5-nano*", GPT_5_NANO),
        ("openai@gpt-4.1", GPT_4_1),
        ("openai@gpt-4.1-2025*", GPT_4_1),
        ("openai@gpt-4.1-mini*", GPT_4_1_MINI),
        ("openai@gpt-4.1-nano*", GPT_4_1_NANO),
        ("openai@gpt-4o", GPT_4O),
        ("openai@gpt-4o-2024*", GPT_4O),
        ("openai@gpt-4o-mini*", GPT_4O_MINI),
        ("openai@o3", O3),
        ("openai@o3-2025*", O3),
        ("openai@o4-mini*", O4_MINI),
        ("openai@o3-mini*", O3_MINI),
        ("openai@text-embedding-3-small", TEXT_EMBEDDING_3_SMALL),
        ("openai@text-embedding-3-large", TEXT_EMBEDDING_3_LARGE),
        ("gemini@gemini-2.5-pro*", GEMINI_2_5_PRO),
        ("gemini@gemini-2.5-flash", GEMINI_2_5_FLASH),
        ("gemini@gemini-2.5-flash-preview*", GEMINI_2_5_FLASH),
        ("gemini@gemini-2.5-flash-lite*", GEMINI_2_5_FLASH_LITE),
        ("gemini@gemini-2.0-flash", GEMINI_2_0_FLASH),
        ("gemini@gemini-2.0-flash-001", GEMINI_2_0_FLASH),
        ("gemini@gemini-2.0-flash-lite*", GEMINI_2_0_FLASH_LITE),
        ("gemini@gemini-embedding-001", GEMINI_EMBEDDING_001),
        // OpenRouter bills the model's own provider price.
        ("openrouter@anthropic/claude-opus-4.5", OPUS_4_5),
        ("openrouter@anthropic/claude-opus-4.1", OPUS_4),
        ("openrouter@anthropic/claude-sonnet-4.5", SONNET),
        ("openrouter@anthropic/claude-sonnet-4", SONNET),
        ("openrouter@anthropic/claude-haiku-4.5", HAIKU_4_5),
        ("openrouter@openai/gpt-5", GPT_5),
        ("openrouter@openai/gpt-5-mini", GPT_5_MINI),
        ("openrouter@openai/gpt-4.1", GPT_4_1),
        ("openrouter@openai/gpt-4.1-mini", GPT_4_1_MINI),
        ("openrouter@openai/gpt-4o-mini", GPT_4O_MINI),
        ("openrouter@google/gemini-2.5-pro", GEMINI_2_5_PRO),
        ("openrouter@google/gemini-2.5-flash", GEMINI_2_5_FLASH),
        (
            "openrouter@google/gemini-2.5-flash-lite",
            GEMINI_2_5_FLASH_LITE,
        ),
        // Local servers run on your own hardware.
        ("ollama@*", FREE),
        ("lmstudio@*", FREE),
        ("vllm@*", FREE),
    ]
}
