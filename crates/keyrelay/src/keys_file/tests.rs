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
