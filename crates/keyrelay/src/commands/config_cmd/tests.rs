use super::*;

#[test]
fn the_sample_config_is_valid() {
    Config::from_toml(SAMPLE).expect("sample parses");
}

#[test]
fn an_unsound_price_fails_the_check_by_name() {
    let dir = std::env::temp_dir().join(format!("keyrelay-config-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyrelay.toml");
    std::fs::write(
        &path,
        "[prices.\"openai@gpt-4.1\"]\ninput = -2.0\noutput = 8.0\n",
    )
    .unwrap();
    let env = crate::env::MapEnv::default();
    let err = check(Some(&path), &env, false).unwrap_err().to_string();
    assert!(err.contains("prices.\"openai@gpt-4.1\".input"), "{err}");
    std::fs::write(
        &path,
        "[prices.\"openai@gpt-4.1\"]\ninput = 2.0\noutput = 8.0\n",
    )
    .unwrap();
    assert!(check(Some(&path), &env, false).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
