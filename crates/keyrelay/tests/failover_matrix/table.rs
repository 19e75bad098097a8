//! The provider table: for each built-in provider that takes keys, how a
//! client names its model, where its keys and base URL come from, and the
//! real error each scenario's key gets (named as in testkit's
//! `fixtures/errors/`, whose `SOURCES.md` says where each came from).

use crate::providers::{Failure, Framing, Hint, Provider, Sent, Speaks};

const fn http(status: u16, name: &'static str, class: &'static str, hint: Hint) -> Failure {
    Failure {
        sent: Sent::Fixture { status, name },
        class,
        hint,
    }
}

const fn event(name: &'static str, framing: Framing, class: &'static str) -> Failure {
    Failure {
        sent: Sent::Event { name, framing },
        class,
        hint: Hint::None,
    }
}

const RESET: Failure = Failure {
    sent: Sent::Reset,
    class: "transient",
    hint: Hint::None,
};

pub fn anthropic() -> Provider {
    Provider {
        name: "anthropic",
        model: "anthropic@claude-sonnet-4-5",
        keys_env: "ANTHROPIC_API_KEYS",
        base_url_env: "ANTHROPIC_UPSTREAM_BASE_URL",
        speaks: Speaks::Anthropic,
        responses: false,
        // retry-after: 17, but the input-token window resets in 60 s.
        rate_limited: http(429, "anthropic_rate_limit", "rate_limited", Hint::Secs(60)),
        account_wide_429: false,
        out_of_quota: http(400, "anthropic_no_credit", "key_no_credit", Hint::None),
        invalid_key: http(401, "anthropic_invalid_key", "key_invalid", Hint::None),
        overloaded: http(529, "anthropic_overloaded", "transient", Hint::None),
        stream_error: Some(event(
            "anthropic_stream_overloaded",
            Framing::SseNamed("error"),
            "transient",
        )),
        stream_429: None,
        client_error: http(
            400,
            "anthropic_validation_error",
            "client_error",
            Hint::None,
        ),
    }
}

pub fn openai() -> Provider {
    Provider {
        name: "openai",
        model: "openai@gpt-4.1",
        keys_env: "OPENAI_API_KEYS",
        base_url_env: "OPENAI_BASE_URL",
        speaks: Speaks::OpenaiChat,
        responses: true,
        // retry-after: 20, but no request is left for `x-ratelimit-reset-requests: 6m0s`.
        rate_limited: http(429, "openai_rate_limit", "rate_limited", Hint::Secs(360)),
        account_wide_429: false,
        out_of_quota: http(429, "openai_no_credit", "key_no_credit", Hint::None),
        invalid_key: http(401, "openai_invalid_key", "key_invalid", Hint::None),
        overloaded: http(503, "openai_overloaded", "transient", Hint::None),
        // A Responses-API stream event: only the Responses front gets it.
        stream_error: Some(event(
            "openai_stream_overloaded",
            Framing::SseNamed("error"),
            "transient",
        )),
        stream_429: None,
        client_error: http(400, "openai_validation_error", "client_error", Hint::None),
    }
}

pub fn gemini() -> Provider {
    Provider {
        name: "gemini",
        model: "gemini@gemini-2.5-flash",
        keys_env: "GEMINI_API_KEYS",
        base_url_env: "GEMINI_BASE_URL",
        speaks: Speaks::Gemini,
        responses: false,
        // RetryInfo.retryDelay: 58s.
        rate_limited: http(429, "gemini_rate_limit", "rate_limited", Hint::Secs(58)),
        account_wide_429: false,
        // Gemini has no credit to run out of; its per-day quota is the
        // long wait (until midnight US/Pacific).
        out_of_quota: http(429, "gemini_per_day_quota", "quota_daily", Hint::Daily),
        // Gemini says a key is invalid with a 400.
        invalid_key: http(400, "gemini_invalid_key", "key_invalid", Hint::None),
        overloaded: http(503, "gemini_overloaded", "transient", Hint::None),
        stream_error: Some(event(
            "gemini_stream_overloaded",
            Framing::SseData,
            "transient",
        )),
        stream_429: None,
        client_error: http(400, "gemini_validation_error", "client_error", Hint::None),
    }
}

pub fn openrouter() -> Provider {
    Provider {
        name: "openrouter",
        model: "openrouter@qwen/qwen3-coder",
        keys_env: "OPENROUTER_API_KEYS",
        base_url_env: "OPENROUTER_BASE_URL",
        speaks: Speaks::OpenaiChat,
        responses: false,
        // X-RateLimit-Reset: a minute after the fixture's `now`.
        rate_limited: http(429, "openrouter_rate_limit", "rate_limited", Hint::Secs(60)),
        account_wide_429: true,
        out_of_quota: http(402, "openrouter_no_credit", "key_no_credit", Hint::None),
        invalid_key: http(401, "openrouter_invalid_key", "key_invalid", Hint::None),
        // No real OpenRouter 5xx body is known: a dropped connection.
        overloaded: RESET,
        stream_error: Some(event(
            "openrouter_stream_error",
            Framing::SseData,
            "transient",
        )),
        stream_429: Some(Failure {
            hint: Hint::Secs(60),
            ..event(
                "openrouter_stream_rate_limit",
                Framing::SseData,
                "rate_limited",
            )
        }),
        client_error: http(
            400,
            "openrouter_validation_error",
            "client_error",
            Hint::None,
        ),
    }
}

pub fn ollama_cloud() -> Provider {
    Provider {
        name: "ollama-cloud",
        model: "ollama-cloud@gpt-oss:120b",
        keys_env: "OLLAMA_API_KEYS",
        base_url_env: "OLLAMA_CLOUD_BASE_URL",
        speaks: Speaks::Ollama,
        responses: false,
        rate_limited: http(429, "ollama_rate_limit", "rate_limited", Hint::None),
        account_wide_429: false,
        // The weekly cap: parked like an empty account.
        out_of_quota: http(429, "ollama_weekly_limit", "key_no_credit", Hint::None),
        invalid_key: http(401, "ollama_invalid_key", "key_invalid", Hint::None),
        overloaded: http(503, "ollama_overloaded", "transient", Hint::None),
        stream_error: Some(event("ollama_stream_error", Framing::Ndjson, "transient")),
        stream_429: Some(event(
            "ollama_stream_rate_limit",
            Framing::Ndjson,
            "rate_limited",
        )),
        client_error: http(400, "ollama_validation_error", "client_error", Hint::None),
    }
}

pub fn litellm() -> Provider {
    Provider {
        name: "litellm",
        model: "litellm@gpt-4o",
        keys_env: "LITELLM_API_KEYS",
        base_url_env: "LITELLM_BASE_URL",
        speaks: Speaks::OpenaiChat,
        responses: false,
        // LiteLLM has no rate-limit body of its own: it relays its
        // upstream's, here OpenAI's.
        rate_limited: http(429, "openai_rate_limit", "rate_limited", Hint::Secs(360)),
        account_wide_429: false,
        out_of_quota: http(429, "litellm_budget_exceeded", "key_no_credit", Hint::None),
        invalid_key: http(401, "litellm_invalid_key", "key_invalid", Hint::None),
        // No real LiteLLM 5xx body is known: a dropped connection.
        overloaded: RESET,
        stream_error: None,
        // An end user over budget: a 401 that is the client's, not the key's.
        stream_429: None,
        client_error: http(
            401,
            "litellm_end_user_budget_exceeded",
            "client_error",
            Hint::None,
        ),
    }
}

/// Every provider of the table, in its order.
pub fn all() -> [Provider; 6] {
    [
        anthropic(),
        openai(),
        gemini(),
        openrouter(),
        ollama_cloud(),
        litellm(),
    ]
}
