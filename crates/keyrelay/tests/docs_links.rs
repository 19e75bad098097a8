//! The README and the pages under docs/ link to each other and to files of
//! the repository. These tests keep those links working: every relative link
//! must name a file that exists, and every `#anchor` a heading of the file it
//! points at (by GitHub's slug of the heading). The README also stays short.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

const README_MAX_LINES: usize = 300;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every markdown file directly under docs/.
fn doc_files() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = vec![root.join("README.md")];
    let docs = root.join("docs");
    let entries =
        fs::read_dir(&docs).unwrap_or_else(|e| panic!("cannot list {}: {e}", docs.display()));
    let mut pages: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", docs.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    pages.sort();
    files.extend(pages);
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Tracks fenced code blocks (``` or ~~~) line by line.
#[derive(Default)]
struct Fences {
    open: Option<(char, usize)>,
}

impl Fences {
    /// Whether `line` is inside a fenced code block or is one of its fences.
    fn is_code(&mut self, line: &str) -> bool {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let trimmed = line.trim_start_matches(' ');
        let fence = if indent <= 3 {
            ['`', '~'].into_iter().find_map(|c| {
                let run = trimmed.len() - trimmed.trim_start_matches(c).len();
                (run >= 3).then_some((c, run))
            })
        } else {
            None
        };
        match (self.open, fence) {
            (None, Some(opening)) => {
                self.open = Some(opening);
                true
            }
            (Some((c, run)), Some((close_c, close_run)))
                if c == close_c
                    && close_run >= run
                    && trimmed.trim_start_matches(c).trim().is_empty() =>
            {
                self.open = None;
                true
            }
            (Some(_), _) => true,
            (None, None) => false,
        }
    }
}

/// `line` with its inline code spans blanked out, so `[a](b)` inside
/// backticks is not taken for a link.
fn without_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            // The closing run: the same number of backticks, not more.
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if r == run {
                        close = Some(j);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(j) => {
                    out.extend(std::iter::repeat_n(' ', j + run - i));
                    i = j + run;
                }
                None => {
                    out.extend(&chars[i..i + run]);
                    i += run;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The targets of the inline links `[text](target)` and images
/// `![alt](target)` on one line (code spans excluded).
fn link_targets(line: &str) -> Vec<String> {
    let chars: Vec<char> = without_code_spans(line).chars().collect();
    let mut targets = Vec::new();
    for (start, &c) in chars.iter().enumerate() {
        if c != '[' || (start > 0 && chars[start - 1] == '\\') {
            continue;
        }
        // The matching `]`, brackets nested.
        let mut depth = 0usize;
        let mut close = None;
        for (k, &c) in chars.iter().enumerate().skip(start) {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(k);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { continue };
        if chars.get(close + 1) != Some(&'(') {
            continue;
        }
        // The destination, parentheses nested, up to the closing `)`.
        let mut depth = 0usize;
        let mut end = None;
        for (k, &c) in chars.iter().enumerate().skip(close + 1) {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(k);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { continue };
        let inside: String = chars[close + 2..end].iter().collect();
        let inside = inside.trim();
        // `<target>` or `target "title"`.
        let target = match inside.strip_prefix('<') {
            Some(rest) => rest.split('>').next().unwrap_or_default(),
            None => inside.split_whitespace().next().unwrap_or_default(),
        };
        targets.push(target.to_owned());
    }
    targets
}

fn is_external(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// GitHub's anchor for a heading: lower case; characters other than
/// letters, digits, spaces, hyphens and underscores removed; spaces turned
/// into hyphens.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// A heading's text as GitHub renders it: links reduced to their text.
fn heading_text(raw: &str) -> String {
    let mut text = raw.to_owned();
    while let Some(start) = text.find('[') {
        let Some(mid) = text[start..].find("](").map(|m| start + m) else {
            break;
        };
        let Some(end) = text[mid..].find(')').map(|e| mid + e) else {
            break;
        };
        text = format!(
            "{}{}{}",
            &text[..start],
            &text[start + 1..mid],
            &text[end + 1..]
        );
    }
    text
}

/// The anchors of every heading of a markdown file, in GitHub's way: a
/// heading that repeats an earlier one's slug gets `-1`, `-2`, … appended.
fn anchors(markdown: &str) -> Vec<String> {
    let mut fences = Fences::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    let mut previous: Option<&str> = None;
    for line in markdown.lines() {
        if fences.is_code(line) {
            previous = None;
            continue;
        }
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        let mut heading = None;
        if indent <= 3
            && (1..=6).contains(&hashes)
            && (trimmed.len() == hashes || trimmed[hashes..].starts_with([' ', '\t']))
        {
            // ATX heading, with any closing run of `#` removed.
            let text = trimmed[hashes..].trim();
            let text = match text.trim_end_matches('#') {
                rest if rest.is_empty() || rest.ends_with([' ', '\t']) => rest.trim_end(),
                _ => text,
            };
            heading = Some(text.to_owned());
        } else if indent <= 3
            && !trimmed.trim_end().is_empty()
            && (trimmed.trim_end().chars().all(|c| c == '=')
                || trimmed.trim_end().chars().all(|c| c == '-'))
        {
            // Setext heading: the line before, underlined.
            if let Some(text) = previous.filter(|p| !p.trim().is_empty()) {
                heading = Some(text.trim().to_owned());
            }
        }
        if let Some(text) = heading {
            let base = slug(&heading_text(&text));
            let count = seen.entry(base.clone()).or_insert(0);
            anchors.push(if *count == 0 {
                base
            } else {
                format!("{base}-{count}")
            });
            *count += 1;
            previous = None;
        } else {
            previous = Some(line);
        }
    }
    anchors
}

/// `path` with `.` and `..` taken out, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Why `target`, linked from `file`, does not resolve; `None` when it does.
fn broken(root: &Path, file: &Path, target: &str) -> Option<String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(percent_decode(anchor))),
        None => (target, None),
    };
    let path = percent_decode(path.split('?').next().unwrap_or_default());
    let resolved = if path.is_empty() {
        file.to_path_buf()
    } else if let Some(from_root) = path.strip_prefix('/') {
        normalize(&root.join(from_root))
    } else {
        normalize(&file.parent().unwrap_or(root).join(&path))
    };
    if !resolved.exists() {
        return Some(format!("no such file: {}", resolved.display()));
    }
    let anchor = anchor?;
    if resolved.extension().is_none_or(|ext| ext != "md") {
        return Some(format!(
            "#{anchor} points into {}, which is not a markdown file",
            resolved.display()
        ));
    }
    let headings = anchors(&read(&resolved));
    (!headings.contains(&anchor)).then(|| {
        format!(
            "no heading with anchor #{anchor} in {} (anchors there: {})",
            resolved.display(),
            headings.join(", ")
        )
    })
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = normalize(&repo_root());
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in doc_files() {
        let file = normalize(&file);
        let text = read(&file);
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut fences = Fences::default();
        for (index, line) in text.lines().enumerate() {
            if fences.is_code(line) {
                continue;
            }
            for target in link_targets(line) {
                if is_external(&target) {
                    continue;
                }
                checked += 1;
                if let Some(reason) = broken(&root, &file, &target) {
                    failures.push(format!("{shown}:{}: ({target}) {reason}", index + 1));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} broken link(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        checked > 0,
        "no relative link found in README.md or docs/: the link scan finds nothing"
    );
}

#[test]
fn readme_stays_under_300_lines() {
    let readme = repo_root().join("README.md");
    let lines = read(&readme).lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines; keep it at {README_MAX_LINES} or fewer and move reference material to docs/"
    );
}

#[test]
fn headings_get_the_anchors_github_gives_them() {
    let markdown = "# Key pools\n\
                    ## When nothing can serve\n\
                    ## Soak: `scripts/soak`\n\
                    ## Memory with 1,000 streams open\n\
                    ## Examples\n\
                    ## Examples\n\
                    ## Examples #\n\
                    ```sh\n\
                    # not a heading\n\
                    ```\n\
                    A setext heading\n\
                    ----------------\n";
    assert_eq!(
        anchors(markdown),
        [
            "key-pools",
            "when-nothing-can-serve",
            "soak-scriptssoak",
            "memory-with-1000-streams-open",
            "examples",
            "examples-1",
            "examples-2",
            "a-setext-heading",
        ]
    );
}

#[test]
fn links_in_code_spans_are_not_links_and_images_are() {
    assert_eq!(
        link_targets("see [State](state.md#data-layout) and `[not](a-link.md)`"),
        ["state.md#data-layout"]
    );
    assert_eq!(
        link_targets("![The dashboard](dashboard.png \"title\") [a [nested] text](<x y.md>)"),
        ["dashboard.png", "x y.md"]
    );
    assert!(link_targets("`[{\"minute_start_ms\":…}]` and [text] alone").is_empty());
}
