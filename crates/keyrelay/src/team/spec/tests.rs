use serde_json::json;

use super::*;

fn cx() -> Context<'static> {
    static PROVIDERS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| vec!["gemini".into(), "openai".into(), "anthropic".into()]);
    Context {
        providers: &PROVIDERS,
        now_ms: 1_749_043_200_000,
    }
}

fn refused(body: serde_json::Value, creating: bool) -> String {
    KeyChange::from_json(&body, creating, &cx())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_full_key_is_read_field_by_field() {
    let change = KeyChange::from_json(
        &json!({
            "name": " alice ",
            "team": "research",
            "routes": ["gemini@*", "openai@gpt-4.1", "fast"],
            "rpm": 60,
            "tpm": null,
            "budget_usd": {"day": 0.01, "month": 100},
            "expires_at": "2030-01-01T00:00:00Z",
        }),
        true,
        &cx(),
    )
    .unwrap();
    assert_eq!(change.name.as_deref(), Some("alice"));
    assert_eq!(change.team, Some(Some("research".into())));
    assert_eq!(change.routes.as_ref().unwrap().len(), 3);
    assert_eq!((change.rpm, change.tpm), (Some(Some(60)), Some(None)));
    let budget = change.budget_over(UsdBudget::default());
    assert_eq!(budget.day, Some(10_000_000));
    assert_eq!(budget.month, Some(100_000_000_000));
    assert_eq!(budget.week, None);
    assert_eq!(change.expires_at_ms, Some(Some(1_893_456_000_000)));
}

#[test]
fn creating_needs_a_name_and_allows_every_model_by_default() {
    assert_eq!(refused(json!({"team": "x"}), true), "name: required");
    let change = KeyChange::from_json(&json!({"name": "bob"}), true, &cx()).unwrap();
    assert_eq!(change.routes, Some(vec!["*".to_owned()]));
    let patch = KeyChange::from_json(&json!({"rpm": 5}), false, &cx()).unwrap();
    assert_eq!(patch.name, None);
}

#[test]
fn bad_fields_are_refused_by_name() {
    let cases = [
        (
            json!({"name": "a", "budget_usd": {"day": -1}}),
            "budget_usd.day:",
        ),
        (
            json!({"name": "a", "budget_usd": {"day": "5"}}),
            "budget_usd.day:",
        ),
        (
            json!({"name": "a", "budget_usd": {"hour": 5}}),
            "budget_usd.hour:",
        ),
        (json!({"name": "a", "budget_usd": 5}), "budget_usd:"),
        (json!({"name": "a", "routes": []}), "routes:"),
        (
            json!({"name": "a", "routes": ["gemini@*", "gemnii@*"]}),
            "routes[1]: unknown provider `gemnii`",
        ),
        (json!({"name": "a", "routes": ["@gpt"]}), "routes[0]:"),
        (json!({"name": "a", "routes": ["gpt 4"]}), "routes[0]:"),
        (
            json!({"name": "a", "routes": [5]}),
            "routes[0]: must be a string",
        ),
        (json!({"name": "a", "rpm": 0}), "rpm:"),
        (json!({"name": "a", "tpm": 1.5}), "tpm:"),
        (
            json!({"name": "a", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at: is in the past",
        ),
        (
            json!({"name": "a", "expires_at": "next week"}),
            "expires_at:",
        ),
        (json!({"name": ""}), "name:"),
        (json!({"name": "a\nb"}), "name:"),
        (json!({"name": "kr-abc"}), "name:"),
        (
            json!({"name": "a", "colour": "red"}),
            "colour: unknown field",
        ),
        (json!(["name"]), "body:"),
    ];
    for (body, expected) in cases {
        let message = refused(body.clone(), true);
        assert!(message.starts_with(expected), "{body}: {message}");
    }
}

#[test]
fn a_patch_clears_with_null_and_keeps_what_it_leaves_out() {
    let change = KeyChange::from_json(
        &json!({"budget_usd": {"day": null, "week": 2}, "team": null, "disabled": true}),
        false,
        &cx(),
    )
    .unwrap();
    let before = UsdBudget {
        day: Some(1),
        week: None,
        month: Some(3),
    };
    let after = change.budget_over(before);
    assert_eq!(
        (after.day, after.week, after.month),
        (None, Some(2_000_000_000), Some(3))
    );
    assert_eq!(change.team, Some(None));
    assert_eq!(change.disabled, Some(true));
    let all = KeyChange::from_json(&json!({"budget_usd": null}), false, &cx()).unwrap();
    assert!(all.budget_over(before).is_empty());
}

#[test]
fn expiry_takes_rfc3339_or_unix_seconds() {
    assert_eq!(expiry(&json!(1_900_000_000), 0), Ok(1_900_000_000_000));
    assert_eq!(
        expiry(&json!("2030-01-01T01:00:00+01:00"), 0),
        Ok(1_893_456_000_000)
    );
    assert!(expiry(&json!(true), 0).is_err());
}
