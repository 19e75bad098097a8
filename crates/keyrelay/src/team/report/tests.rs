use super::*;

#[test]
fn a_query_defaults_to_keys_today_and_refuses_bad_parameters_by_name() {
    let now = 1_749_043_200_000;
    let query = Query::parse(None, None, None, now).unwrap();
    assert_eq!(query.by, Dimension::Key);
    assert_eq!(
        (query.from.as_str(), query.to.as_str()),
        ("2025-06-04", "2025-06-04")
    );
    let err = |by, from, to| Query::parse(by, from, to, now).unwrap_err().field;
    assert_eq!(err(Some("colour"), None, None), "by");
    assert_eq!(err(None, Some("June"), None), "from");
    assert_eq!(err(None, Some("2025-06-05"), Some("2025-06-01")), "from");
    assert_eq!(err(None, Some("2020-01-01"), Some("2025-01-01")), "to");
    assert!(Query::parse(Some("provider_key"), Some("2025-06-01"), None, now).is_ok());
}

#[test]
fn csv_quotes_what_needs_quoting_and_never_starts_a_formula() {
    assert_eq!(csv_cell("plain"), "plain");
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    let report = Report {
        query: Query {
            by: Dimension::Model,
            from: "2025-06-01".into(),
            to: "2025-06-01".into(),
        },
        lines: vec![
            Line {
                name: "openai@gpt-4.1".into(),
                key_name: None,
                team: None,
                counts: SpendCounts {
                    requests: 2,
                    usd_nanos: 1_500,
                    ..SpendCounts::default()
                },
            },
            Line {
                name: "custom@free-model".into(),
                key_name: None,
                team: None,
                counts: SpendCounts {
                    requests: 1,
                    unpriced_requests: 1,
                    ..SpendCounts::default()
                },
            },
        ],
    };
    let csv = report.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("model,usd,requests,"), "{csv}");
    assert!(
        lines[1].starts_with("openai@gpt-4.1,0.000001500,2,"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("custom@free-model,,1,"),
        "unknown is empty, never 0: {csv}"
    );
    let json = report.to_json();
    assert_eq!(json["rows"][1]["usd"], serde_json::Value::Null);
    assert_eq!(json["total"]["unpriced_requests"], 1);
}
