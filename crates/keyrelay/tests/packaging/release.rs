//! What a release carries besides the binary: `--version` with the commit,
//! shell completions, the man pages, and a binary that needs no library.

use super::*;

#[tokio::test]
async fn version_names_the_version_and_the_commit() {
    let version = version_of(Path::new(env!("CARGO_BIN_EXE_keyrelay"))).await;
    assert_names_version_and_commit(&version);
}

#[tokio::test]
async fn bash_accepts_the_bash_completions() {
    require("bash", "apt-get install bash");
    let dir = scratch("completions");
    let script = dir.join("keyrelay.bash");
    let output =
        run(Command::new(env!("CARGO_BIN_EXE_keyrelay")).args(["completions", "bash"])).await;
    let text = String::from_utf8(output.stdout).unwrap();
    for word in ["serve", "claude", "keys", "--listen", "--model"] {
        assert!(text.contains(word), "{word} is not completed");
    }
    std::fs::write(&script, &text).unwrap();
    run(Command::new("bash").arg("-n").arg(&script)).await;
    // What a shell loads: the script defines its completion for keyrelay.
    let loaded = run(Command::new("bash").arg("-c").arg(format!(
        "source {} && complete -p keyrelay",
        script.display()
    )))
    .await;
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("keyrelay"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let output =
            run(Command::new(env!("CARGO_BIN_EXE_keyrelay")).args(["completions", shell])).await;
        assert!(!output.stdout.is_empty(), "{shell}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_man_pages_render_without_warnings() {
    require(
        "man",
        "install man-db (apt-get install man-db); scripts/test does when run as root",
    );
    let dir = scratch("man");
    run(Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["man", "--dir"])
        .arg(&dir))
    .await;
    let main = run(Command::new(env!("CARGO_BIN_EXE_keyrelay")).arg("man")).await;
    assert_eq!(
        main.stdout,
        std::fs::read(dir.join("keyrelay.1")).unwrap(),
        "`keyrelay man` prints keyrelay.1"
    );
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    for page in ["keyrelay.1", "keyrelay-serve.1", "keyrelay-keys-check.1"] {
        assert!(pages.contains(&dir.join(page)), "{page}: {pages:?}");
    }
    for page in &pages {
        let output = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80"))
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.is_empty(), "{}: {stderr}", page.display());
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{}",
            page.display()
        );
    }
    let main = run(Command::new("man")
        .args(["-l"])
        .arg(dir.join("keyrelay.1"))
        .env("MANPAGER", "cat"))
    .await;
    let text = String::from_utf8_lossy(&main.stdout);
    assert!(
        text.contains("keyrelay-serve(1)") && text.contains(env!("CARGO_PKG_VERSION")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_static_binary_has_no_dynamic_dependencies() {
    require("file", "apt-get install file");
    let binary = static_binary_in(&dist().await);
    let output = run(Command::new("file").arg("-b").arg(&binary)).await;
    let described = String::from_utf8_lossy(&output.stdout);
    assert!(
        (described.contains("statically linked") || described.contains("static-pie linked"))
            && !described.contains("dynamically linked")
            && !described.contains("interpreter"),
        "{described}"
    );
}
