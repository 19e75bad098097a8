use super::*;

#[test]
fn the_sample_config_is_valid() {
    Config::from_toml(SAMPLE).expect("sample parses");
}
