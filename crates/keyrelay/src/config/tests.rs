use super::*;

const KEY: &str = "test-key-secret-aaaa1111";

/// Every run of 6 characters of `secret`: nothing of it may show.
fn assert_nothing_of(secret: &str, text: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for window in chars.windows(6) {
        let fragment: String = window.iter().collect();
        assert!(!text.contains(&fragment), "shows `{fragment}`: {text}");
    }
}

fn error_of(toml: &str) -> String {
    Config::from_toml(toml).expect_err("invalid").to_string()
}

#[test]
fn a_syntax_error_names_line_column_and_kind_never_the_line() {
    let err = error_of(&format!(
        "[server]\nlisten = \"127.0.0.1:1\"\n[providers.openai]\nkeys = [\"{KEY}\" \n"
    ));
    assert_nothing_of(KEY, &err);
    assert!(err.contains("line 4, column 37"), "{err}");
    assert!(err.contains("invalid array"), "{err}");

    let err = error_of(&format!("[providers.openai]\nkeys = [\"{KEY}\n"));
    assert_nothing_of(KEY, &err);
    assert!(err.contains("line 2, column"), "{err}");
    assert!(err.contains("invalid basic string"), "{err}");

    let err = error_of(&format!("[server]\naccess_tokens = [\"{KEY}\"] extra\n"));
    assert_nothing_of(KEY, &err);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn a_syntax_error_in_a_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("keyrelay-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("broken.toml");
    std::fs::write(&path, format!("[providers.gemini]\nkeys = [\"{KEY}\"\n")).expect("write");
    let err = Config::load(Some(&path)).expect_err("invalid").to_string();
    assert_nothing_of(KEY, &err);
    assert!(err.contains("broken.toml, line 2, column"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_value_names_the_field_and_what_was_expected_never_the_value() {
    let cases = [
        // A key list written as one string, and a key entry of the wrong kind.
        format!("[providers.openai]\nkeys = \"{KEY}\"\n"),
        format!("[providers.openai]\nkeys = [1, \"{KEY}\"]\n"),
        format!("[providers.openai]\nkeys = [{{ key = \"{KEY}\", weight = \"heavy\" }}]\n"),
        format!("[server]\naccess_tokens = \"{KEY}\"\n"),
        format!("[server]\nadmin_tokens = [{{ token = \"{KEY}\" }}]\n"),
        // Unknown choices echo what was written.
        format!("[pool]\nstrategy = \"{KEY}\"\n"),
        format!("[providers.openai]\nauth = \"{KEY}\"\n"),
        format!("[state]\nstore = \"rediss://:{KEY}@cache:6379\"\n"),
    ];
    for toml in &cases {
        let err = error_of(toml);
        assert_nothing_of(KEY, &err);
        assert!(err.starts_with("invalid configuration: "), "{err}");
    }
    let err = error_of(&cases[0]);
    assert!(
        err.contains("field `providers.openai.keys`") && err.contains("found a string"),
        "{err}"
    );
    let err = error_of(&cases[1]);
    assert!(
        err.contains("field `providers.openai.keys.0`: expected a key"),
        "{err}"
    );
    let err = error_of(&cases[5]);
    assert!(
        err.contains("field `pool.strategy`") && err.contains("`sticky`"),
        "{err}"
    );
    let err = error_of(&cases[7]);
    assert!(
        err.contains("field `state.store`: unknown state store"),
        "{err}"
    );
}

#[test]
fn an_unknown_field_is_named_with_the_fields_allowed() {
    let err = error_of("[server]\nlisen = \"127.0.0.1:1\"\n");
    assert!(
        err.contains("field `server.lisen`: unknown field") && err.contains("`listen`"),
        "{err}"
    );
}
