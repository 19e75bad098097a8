//! Breaks that are not continued, or not by the next key of the pool: with
//! continuation off, a provider that does not continue prefilled turns,
//! thinking (cut before its signature, or on with Anthropic), the
//! `max_continuations` bound — each ends in the error frame a client gets
//! without continuation — and the ways a continuation still finds a server:
//! the broken key itself when it is the only one, the fallback chain — and
//! a provider whose `prefill` setting wants its prefix marked (DeepSeek).

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{prefill_of, rest_of, FakeUpstream, Reply, SseEvent};

use crate::answer::events;
use crate::cases::{
    admin_get, classes, gateway, last_request, metric, Break, ADMIN, BREAKS, FULL, GOOD, SENT,
};
use crate::fronts::Front;
use crate::providers::{self, Provider};
use crate::support::{client, start};

/// An OpenAI provider: Chat Completions has no prefill.
fn openai() -> Provider {
    Provider {
        name: "openai",
        model: "openai@gpt-4.1",
        keys_env: "OPENAI_API_KEYS",
        base_url_env: "OPENAI_BASE_URL",
        ..providers::openrouter()
    }
}

/// The text of a Messages stream up to its `error` event.
fn text_until_error(body: &str) -> String {
    events(body)
        .into_iter()
        .take_while(|(name, _)| name.as_deref() != Some("error"))
        .filter_map(|(_, data)| serde_json::from_str::<Value>(&data).ok())
        .filter_map(|data| data["delta"]["text"].as_str().map(str::to_owned))
        .collect()
}

/// The last event of a Messages stream is an `error` event.
fn ends_with_error_event(body: &str) {
    let last = events(body).last().cloned().unwrap();
    assert_eq!(last.0.as_deref(), Some("error"), "{body}");
}

async fn continuation_outcome(gateway: &keyrelay::server::RunningGateway, outcome: &str) {
    let label = format!("outcome=\"{outcome}\"");
    let counted =
        testkit::eventually_async("the outcome is counted", Duration::from_secs(5), || async {
            metric(gateway, "keyrelay_stream_continuations_total{", &[&label])
                .await
                .filter(|n| *n >= 1.0)
        })
        .await;
    assert_eq!(counted, 1.0);
}

#[test]
fn with_continuation_off_a_break_ends_with_an_error_event_as_before() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        upstream.on_key(BREAKS, [Break::Reset.reply(&provider, FULL)]);
        upstream.on_key(GOOD, [provider.stream(FULL)]);
        let keys = format!("{BREAKS},{GOOD}");
        let gateway = start(
            &[
                (provider.keys_env, keys.as_str()),
                (provider.base_url_env, upstream.base_url().as_str()),
            ],
            &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n"),
        )
        .await;
        let response = Front::Messages.ask(&gateway, provider.model, true).await;
        let body = response.text().await.unwrap();
        ends_with_error_event(&body);
        assert_eq!(upstream.hits(GOOD), 0);
        let logged = last_request(&gateway).await;
        assert_eq!(
            (&logged["ended"], &logged["failure"]),
            (&json!("failed"), &json!("transient"))
        );
    });
}

#[test]
fn a_provider_without_prefill_ends_in_the_clean_error_frame() {
    for front in [Front::Messages, Front::Chat] {
        crate::paused(async {
            let upstream = FakeUpstream::start().await;
            let provider = openai();
            upstream.on_key(BREAKS, [Break::Reset.reply(&provider, FULL)]);
            upstream.on_key(GOOD, [provider.stream(FULL)]);
            let gateway = gateway(&upstream, &provider, "").await;
            let response = front.ask(&gateway, provider.model, true).await;
            let body = response.text().await.unwrap();
            match front {
                Front::Messages => ends_with_error_event(&body),
                _ => {
                    assert!(body.contains("data: {\"error\":"), "{body}");
                    assert!(!body.contains("[DONE]"), "{body}");
                }
            }
            assert_eq!(upstream.hits(GOOD), 0, "nobody was asked for the rest");
            let logged = last_request(&gateway).await;
            assert_eq!(logged["ended"], "failed", "{logged}");
            // Nothing in its chain continues a prefilled turn: its stream
            // runs as it would with continuation off.
            let tried = metric(&gateway, "keyrelay_stream_continuations_total{", &[]).await;
            assert_eq!(tried, None);
        });
    }
}

#[test]
fn a_thinking_block_cut_before_its_signature_ends_in_the_clean_error_frame() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        let mut events: Vec<SseEvent> = testkit::anthropic_stream_events(FULL)
            .into_iter()
            .take(1)
            .collect();
        events.push(SseEvent::json(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
        ));
        for piece in ["Let me ", "think "] {
            events.push(SseEvent::json(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": piece}}),
            ));
        }
        upstream.on_key(BREAKS, [Reply::sse(events).cut_after(4)]);
        upstream.on_key(GOOD, [provider.stream(FULL)]);
        let gateway = gateway(&upstream, &provider, "").await;
        let response = Front::Messages.ask(&gateway, provider.model, true).await;
        let body = response.text().await.unwrap();
        ends_with_error_event(&body);
        assert!(!body.contains("signature_delta"), "{body}");
        assert_eq!(upstream.hits(GOOD), 0);
        continuation_outcome(&gateway, "inexact").await;
    });
}

#[test]
fn anthropic_with_thinking_on_is_not_continued() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        upstream.on_key(BREAKS, [Break::Reset.reply(&provider, FULL)]);
        upstream.on_key(GOOD, [provider.stream(FULL)]);
        let gateway = gateway(&upstream, &provider, "").await;
        let body = json!({"model": provider.model, "max_tokens": 4096, "stream": true,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "messages": [{"role": "user", "content": "Say hello"}]});
        let response = client()
            .post(format!("{}/v1/messages", gateway.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        ends_with_error_event(&response.text().await.unwrap());
        assert_eq!(upstream.hits(GOOD), 0);
        continuation_outcome(&gateway, "inexact").await;
    });
}

#[test]
fn a_request_makes_at_most_max_continuations() {
    crate::paused(async {
        const BREAKS_TOO: &str = "test-key-breaks-000000000002";
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        upstream.on_key(BREAKS, [Break::Reset.reply(&provider, FULL)]);
        upstream.on_key_with(BREAKS_TOO, move |request| {
            provider
                .stream(rest_of(FULL, request))
                .cut_after(provider.preamble() + 2)
        });
        upstream.on_key(GOOD, [provider.stream(FULL)]);
        let keys = format!("{BREAKS},{BREAKS_TOO},{GOOD}");
        let gateway = start(
            &[
                (provider.keys_env, keys.as_str()),
                (provider.base_url_env, upstream.base_url().as_str()),
            ],
            &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n[pool]\ncontinue_streams = true\nmax_continuations = 1\n"),
        )
        .await;
        let response = Front::Messages.ask(&gateway, provider.model, true).await;
        let body = response.text().await.unwrap();
        ends_with_error_event(&body);
        // The first continuation's text joined before it broke too.
        assert!(text_until_error(&body).starts_with(SENT), "{body}");
        assert_eq!(upstream.hits(GOOD), 0);
        let logged = last_request(&gateway).await;
        assert_eq!(classes(&logged), ["transient", "transient"], "{logged}");
        assert_eq!(logged["ended"], "failed");
        continuation_outcome(&gateway, "limit").await;
    });
}

#[test]
fn a_single_key_continues_its_own_broken_stream() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        upstream.on_key_with(BREAKS, move |request| {
            if prefill_of(request).is_empty() {
                Break::Reset.reply(&provider, FULL)
            } else {
                provider.stream(rest_of(FULL, request))
            }
        });
        let gateway = start(
            &[
                (provider.keys_env, BREAKS),
                (provider.base_url_env, upstream.base_url().as_str()),
            ],
            &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n[pool]\ncontinue_streams = true\n"),
        )
        .await;
        let response = Front::Messages.ask(&gateway, provider.model, true).await;
        let body = response.text().await.unwrap();
        assert_eq!(Front::Messages.streamed_text(&body), FULL);
        assert_eq!(upstream.hits(BREAKS), 2);
    });
}

#[test]
fn a_continuation_goes_down_the_fallback_chain() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let anthropic = providers::anthropic();
        let gemini = providers::gemini();
        upstream.on_key_with(BREAKS, move |request| {
            if prefill_of(request).is_empty() {
                Break::Reset.reply(&anthropic, FULL)
            } else {
                Reply::fixture(529, "fixtures/errors/anthropic_overloaded.json")
            }
        });
        upstream.on_key_with(GOOD, move |request| gemini.stream(rest_of(FULL, request)));
        let gateway = start(
            &[
                ("ANTHROPIC_API_KEYS", BREAKS),
                ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
                ("GEMINI_API_KEYS", GOOD),
                ("GEMINI_BASE_URL", upstream.base_url().as_str()),
            ],
            &format!(
                "[server]\nadmin_tokens = [\"{ADMIN}\"]\n[pool]\ncontinue_streams = true\n[fallbacks]\n\"anthropic@*\" = [\"gemini@gemini-2.5-flash\"]\n"
            ),
        )
        .await;
        let response = Front::Messages.ask(&gateway, anthropic.model, true).await;
        let body = response.text().await.unwrap();
        assert_eq!(Front::Messages.streamed_text(&body), FULL, "{body}");
        let asked = upstream.requests_with_key(GOOD);
        assert_eq!(prefill_of(&asked[0]), SENT);
        let logged = last_request(&gateway).await;
        let providers: Vec<&Value> = logged["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["provider"])
            .collect();
        assert_eq!(
            providers.last().unwrap().as_str(),
            Some("gemini"),
            "{logged}"
        );
        let _ = admin_get(&gateway, "/metrics").await;
    });
}

#[test]
fn when_no_key_can_serve_the_rest_the_stream_ends_with_its_error() {
    crate::paused(async {
        let upstream = FakeUpstream::start().await;
        let provider = providers::anthropic();
        upstream.on_key(BREAKS, [Break::Error.reply(&provider, FULL)]);
        upstream.on_key(
            GOOD,
            [Reply::fixture(
                529,
                "fixtures/errors/anthropic_overloaded.json",
            )],
        );
        let gateway = gateway(&upstream, &provider, "").await;
        let response = Front::Messages.ask(&gateway, provider.model, true).await;
        let body = response.text().await.unwrap();
        ends_with_error_event(&body);
        assert_eq!(text_until_error(&body), SENT.to_owned() + " ", "{body}");
        assert!(
            body.contains("overloaded_error"),
            "the provider's own words: {body}"
        );
        assert_eq!(upstream.hits(GOOD), 1);
        let logged = last_request(&gateway).await;
        // Overloaded on two keys within seconds: the provider is down.
        assert_eq!(classes(&logged), ["transient", "provider_down"], "{logged}");
        assert_eq!(
            (&logged["ended"], &logged["failure"]),
            (&json!("failed"), &json!("transient"))
        );
        continuation_outcome(&gateway, "exhausted").await;
    });
}

#[test]
fn a_provider_that_wants_its_prefix_marked_gets_it_marked() {
    for front in [Front::Chat, Front::Messages] {
        crate::paused(async {
            let upstream = FakeUpstream::start().await;
            let provider = Provider {
                name: "deepseek",
                model: "deepseek@deepseek-chat",
                keys_env: "DEEPSEEK_API_KEYS",
                base_url_env: "UNUSED_BASE_URL",
                ..providers::openrouter()
            };
            upstream.on_key(BREAKS, [Break::Reset.reply(&provider, FULL)]);
            upstream.on_key_with(GOOD, move |request| {
                let body = request.json().unwrap();
                let last = body["messages"].as_array().unwrap().last().unwrap().clone();
                assert_eq!(
                    (&last["role"], &last["prefix"]),
                    (&json!("assistant"), &json!(true)),
                    "{body}"
                );
                provider.stream(rest_of(FULL, request))
            });
            let keys = format!("{BREAKS},{GOOD}");
            let gateway = start(
                &[("DEEPSEEK_API_KEYS", keys.as_str())],
                &format!(
                    "[providers.deepseek]\ndialect = \"openai-chat\"\nbase_url = \"{}\"\nprefill = \"prefix-flag\"\ncontinue_streams = true\n",
                    upstream.base_url()
                ),
            )
            .await;
            let response = front.ask(&gateway, provider.model, true).await;
            let body = response.text().await.unwrap();
            assert_eq!(front.streamed_text(&body), FULL, "{front:?}: {body}");
            assert_eq!(upstream.hits(GOOD), 1);
        });
    }
}
