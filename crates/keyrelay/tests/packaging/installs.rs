//! The npm packages installed into an empty prefix with no network, and the
//! wheel into a fresh venv, each then serving.

use std::time::Duration;

use testkit::Reply;

use super::*;

#[tokio::test]
async fn the_npm_package_installs_offline_and_serves() {
    require(
        "npm",
        "install npm (apt-get install npm); scripts/test does when run as root",
    );
    let dist = dist().await;
    let version = env!("CARGO_PKG_VERSION");
    let main = dist.join("npm").join(format!("keyrelay-{version}.tgz"));
    let platform = dist.join("npm").join(format!(
        "keyrelay-linux-{}-{version}.tgz",
        platform().npm_cpu
    ));
    let dir = scratch("npm");
    let prefix = dir.join("prefix");
    // --offline, an empty cache and a registry nobody listens on: nothing
    // can come from the network.
    let npm = |program: &str, cache: &str| {
        let mut command = Command::new(program);
        command
            .arg("--offline")
            .arg("--cache")
            .arg(dir.join(cache))
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("npm_config_registry", "http://127.0.0.1:9/")
            .env("npm_config_update_notifier", "false");
        command
    };
    run(npm("npm", "cache")
        .args(["install", "--global", "--no-audit", "--no-fund"])
        .arg("--prefix")
        .arg(&prefix)
        .arg(&main)
        .arg(&platform))
    .await;
    let keyrelay = prefix.join("bin").join("keyrelay");
    assert!(
        keyrelay.exists(),
        "npm put no keyrelay in {}",
        prefix.display()
    );
    assert!(
        prefix.join("share/man/man1/keyrelay.1").is_file(),
        "npm links the man page"
    );
    assert_names_version_and_commit(&version_of(&keyrelay).await);

    // `npx keyrelay …` from the same tarballs, with nothing installed.
    let npx = run(npm("npx", "npx-cache")
        .arg("--yes")
        .arg("--package")
        .arg(&main)
        .arg("--package")
        .arg(&platform)
        .args(["--", "keyrelay", "--version"]))
    .await;
    assert_names_version_and_commit(String::from_utf8_lossy(&npx.stdout).trim());

    // Arguments, output and the exit status come through the launcher.
    let refused = Command::new(&keyrelay)
        .arg("--no-such-flag")
        .output()
        .await
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--no-such-flag"));

    let upstream = FakeUpstream::start().await;
    upstream.on_key(UPSTREAM_KEY, [Reply::anthropic_message("hello")]);
    let mut served = serve_installed(&keyrelay, &upstream).await;
    assert_eq!(health_of(&served.url).await["status"], "ok");
    assert_eq!(send_message(&served.url, None).await.status(), 200);
    // A supervisor's SIGTERM to the launcher reaches keyrelay, which shuts
    // down cleanly; the launcher ends as it does.
    let pid = i32::try_from(served.child.id().unwrap()).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), served.child.wait())
        .await
        .expect("keyrelay ends after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    testkit::eventually(
        "keyrelay's log says it shut down",
        Duration::from_secs(5),
        || !served.log_lines(&["shutting down"]).is_empty(),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_wheel_installs_into_a_fresh_venv_and_serves() {
    require(
        "python3",
        "install python3 and python3-venv; scripts/test does when run as root",
    );
    let dist = dist().await;
    let wheel = only_file(
        &dist,
        &format!("keyrelay-{}-py3-none-", env!("CARGO_PKG_VERSION")),
        ".whl",
    );
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.contains(&format!("manylinux_2_17_{}", std::env::consts::ARCH))
            && name.contains(&format!("musllinux_1_1_{}", std::env::consts::ARCH)),
        "{name}"
    );
    let dir = scratch("wheel");
    let venv = dir.join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).await;
    run(Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .arg(&wheel))
    .await;
    let keyrelay = venv.join("bin").join("keyrelay");
    assert!(keyrelay.is_file(), "pip put no keyrelay in the venv's bin/");
    assert_names_version_and_commit(&version_of(&keyrelay).await);

    let upstream = FakeUpstream::start().await;
    upstream.on_key(UPSTREAM_KEY, [Reply::anthropic_message("hello")]);
    let served = serve_installed(&keyrelay, &upstream).await;
    assert_eq!(health_of(&served.url).await["status"], "ok");
    assert_eq!(send_message(&served.url, None).await.status(), 200);
    served.stop().await;

    run(Command::new(venv.join("bin/pip"))
        .args(["uninstall", "--yes", "keyrelay"])
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"))
    .await;
    assert!(!keyrelay.exists(), "pip uninstall removes the binary");
    let _ = std::fs::remove_dir_all(&dir);
}
