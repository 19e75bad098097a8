//! Names the commit the binary is built from, for `keyrelay --version`:
//! `KEYRELAY_COMMIT` when set (a build from a source tarball, or a packager
//! who knows better), else `git rev-parse --short HEAD`, else "unknown".
//!
//! The script reruns only when the commit can have changed: when HEAD moves
//! or the branch it points at does, not on every edit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=KEYRELAY_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("KEYRELAY_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git_commit(&manifest_dir))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KEYRELAY_COMMIT={}", commit.trim());
}

/// The short commit id, and the files whose change means a new commit
/// (HEAD, and the loose or packed ref it points at) marked for rerun.
fn git_commit(dir: &Path) -> Option<String> {
    let commit = git(dir, &["rev-parse", "--short", "HEAD"])?;
    watch(git_path(dir, "HEAD"));
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        let loose = git_path(dir, &branch);
        watch(git_path(dir, "packed-refs"));
        // A packed branch gets a loose file on its next commit: watch the
        // folder it will appear in.
        match loose {
            Some(file) if !file.exists() => watch(file.parent().map(Path::to_path_buf)),
            other => watch(other),
        }
    }
    Some(commit)
}

fn git_path(dir: &Path, name: &str) -> Option<PathBuf> {
    git(dir, &["rev-parse", "--git-path", name]).map(|path| dir.join(path))
}

/// Marks a path for rerun when it exists (a missing one would make cargo
/// rerun the script on every build).
fn watch(path: Option<PathBuf>) {
    if let Some(path) = path.filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}
