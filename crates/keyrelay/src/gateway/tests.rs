use super::*;
use crate::env::MapEnv;

fn local_servers(settings: &ServeSettings, toml: &str, env: &[(&str, &str)]) -> LocalServers {
    let config = Config::from_toml(toml).expect("config");
    settings.local_servers(&config, &MapEnv::new(env.iter().copied()))
}

fn listening(addr: &str) -> ServeSettings {
    ServeSettings {
        listen: Some(addr.parse().expect("address")),
        ..ServeSettings::default()
    }
}

#[test]
fn single_user_means_a_loopback_listener_without_access_tokens() {
    use LocalServers::{All, Configured};
    let tokens = "[server]\naccess_tokens = [\"team-token\"]\n";
    let default = ServeSettings::default();
    assert_eq!(local_servers(&default, "", &[]), All);
    assert_eq!(local_servers(&listening("127.0.0.1:9000"), "", &[]), All);
    assert_eq!(local_servers(&listening("[::1]:9000"), "", &[]), All);
    // Shared: someone else may hold a token, or reach the port.
    assert_eq!(local_servers(&default, tokens, &[]), Configured);
    assert_eq!(
        local_servers(&default, "", &[("KEYRELAY_ACCESS_TOKENS", "team-token")]),
        Configured
    );
    assert_eq!(
        local_servers(&listening("0.0.0.0:9000"), "", &[]),
        Configured
    );
    assert_eq!(
        local_servers(&default, "[server]\nlisten = \"192.168.1.5:8080\"\n", &[]),
        Configured
    );
    assert_eq!(
        local_servers(&default, "[server]\nlisten = \"nowhere\"\n", &[]),
        Configured
    );
    // The address served wins over the file's (`serve --listen`).
    let file_beyond = "[server]\nlisten = \"0.0.0.0:8080\"\n";
    assert_eq!(
        local_servers(&listening("127.0.0.1:9000"), file_beyond, &[]),
        All
    );
    assert_eq!(
        local_servers(&listening("0.0.0.0:9000"), "", &[]),
        Configured
    );
}

#[test]
fn a_launchers_gateway_is_single_user_with_its_run_token() {
    let launched = ServeSettings {
        single_user: true,
        ..listening("127.0.0.1:0")
    };
    let run_token = "[server]\naccess_tokens = [\"per-run-token\"]\n";
    assert_eq!(local_servers(&launched, run_token, &[]), LocalServers::All);
}
