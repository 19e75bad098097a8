use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrelay-keysfile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn saved_files_read_back_and_are_private() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("keys.toml");
    assert_eq!(KeysFile::load(&path).unwrap(), KeysFile::default());
    let mut file = KeysFile::default();
    let gemini = file.providers.entry("gemini".into()).or_default();
    gemini
        .keys
        .push(KeyConfig::Plain("test-key-aaaaaaaaaaaa".into()));
    gemini.removed.push("0123456789ab".into());
    file.save(&path).unwrap();
    assert_eq!(KeysFile::load(&path).unwrap(), file);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_file_is_refused_without_quoting_it() {
    let dir = temp_dir("invalid");
    let path = dir.join("keys.toml");
    std::fs::write(
        &path,
        "[providers.gemini]\nkeys = [\"test-key-secret\"\nbroken",
    )
    .unwrap();
    let err = KeysFile::load(&path).unwrap_err().to_string();
    assert!(err.contains("not valid"), "{err}");
    assert!(!err.contains("test-key-secret"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_key_with_a_control_character_or_a_space_inside_is_refused_by_hash_only() {
    let dir = temp_dir("rule");
    let path = dir.join("keys.toml");
    for (key, holds) in [
        ("test-key-secret\\u0000-000001", "a control character"),
        ("test-key-secret\\u0007-000001", "a control character"),
        ("test-key-secret 000001", "a space or tab"),
        ("test-key-secret\\t000001", "a space or tab"),
    ] {
        std::fs::write(
            &path,
            format!(
                "[providers.gemini]\nkeys = [\"test-key-fine-0000001\", {{ key = \"{key}\" }}]\n"
            ),
        )
        .unwrap();
        let err = KeysFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("provider `gemini`, key 2"), "{err}");
        assert!(err.contains(holds), "{err}");
        assert!(err.contains(keypool::KEY_RULE), "{err}");
        assert!(!err.contains("secret") && !err.contains("0001"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_save_over_a_file_changed_since_it_was_read_is_refused_and_leaves_it() {
    let dir = temp_dir("save-over");
    let path = dir.join("keys.toml");
    let (mut file, seen) = KeysFile::read(&path).unwrap();
    assert_eq!(seen, OnDisk::default(), "no file yet");
    file.providers
        .entry("gemini".into())
        .or_default()
        .keys
        .push(KeyConfig::Plain("test-key-aaaaaaaaaaaa".into()));
    let written = file.save_over(&path, seen).unwrap();
    assert_eq!(KeysFile::read(&path).unwrap(), (file.clone(), written));

    // Broken by hand: refused, untouched.
    let broken = "[providers.gemini\nkeys = [\"test-key-by-hand-000001\"]\n";
    std::fs::write(&path, broken).unwrap();
    match file.save_over(&path, written) {
        Err(NotSaved::Broken(err)) => assert!(!err.to_string().contains("by-hand"), "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);

    // Edited by hand and loadable: refused too, until read again.
    let edited = "[providers.gemini]\nkeys = [\"test-key-by-hand-000001\"]\n";
    std::fs::write(&path, edited).unwrap();
    assert!(matches!(
        file.save_over(&path, written),
        Err(NotSaved::Changed { .. })
    ));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    let (reread, seen) = KeysFile::read(&path).unwrap();
    reread.save_over(&path, seen).unwrap();

    // Removed by hand: a change of its own.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        file.save_over(&path, written),
        Err(NotSaved::Changed { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
