//! One home for every clinical number: the typical course, the maximum and "the 6th" are written in
//! `clinic-domain` only. Templates, handlers, use cases and queries read them from there; this test
//! fails when one of those files spells a limit itself (a number of sessions beside a word about the
//! course, a range such as "1–3", an ordinal such as "6th").

use std::path::{Path, PathBuf};

const CLINICAL_WORDS: &[&str] = &[
    "session", "course", "typical", "maximum", "plan", "series", "beyond", "at most", "reached",
];
const ORDINALS: &[&str] = &["third", "fourth", "fifth", "sixth"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn is_limit_digit(c: char) -> bool {
    ('3'..='6').contains(&c)
}

/// Standalone digits 3 to 6 (not part of a longer number or a word such as `h3`), with what follows.
fn standalone_digits(line: &str) -> Vec<(usize, char)> {
    let chars: Vec<char> = line.chars().collect();
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.');
    (0..chars.len())
        .filter(|&i| is_limit_digit(chars[i]))
        .filter(|&i| !word(i.checked_sub(1).and_then(|j| chars.get(j))))
        .filter(|&i| {
            let next = chars.get(i + 1);
            // "6th", "5 sessions" and "3)" count; "3.5" and "30" do not.
            !next.is_some_and(|c| {
                c.is_ascii_digit() || (*c == '.' && chars.get(i + 2).is_some_and(char::is_ascii_digit))
            })
        })
        .map(|i| (i, chars[i]))
        .collect()
}

/// What on `line` spells a clinical limit, if anything.
fn spelled_limit(line: &str) -> Option<String> {
    let lower = line.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    for (i, _) in standalone_digits(&lower) {
        let after: String = chars[i + 1..].iter().take(2).collect();
        if ["st", "nd", "rd", "th"].contains(&after.as_str()) {
            return Some("an ordinal".into());
        }
        // A range such as 1–3, 4-5 or 1..=5: a standalone 1 or 4 just before.
        for p in ["1–", "1-", "4–", "4-", "1..=", "4..=", "1 to ", "4 to "] {
            let k = p.chars().count();
            let start = i.checked_sub(k);
            let standalone = start.is_some_and(|s| s == 0 || !chars[s - 1].is_alphanumeric());
            if standalone && start.is_some_and(|s| chars[s..i].iter().collect::<String>() == p) {
                return Some("a range".into());
            }
        }
        if CLINICAL_WORDS.iter().any(|w| lower.contains(w)) {
            return Some("a number beside a word about the course".into());
        }
    }
    ORDINALS
        .iter()
        .find(|o| lower.split(|c: char| !c.is_alphabetic()).any(|w| w == **o))
        .map(|o| format!("the word {o:?}"))
}

/// The lines of a source file that are code or page text: comments, test modules and string
/// fixtures of tests are skipped.
fn checked_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let is_rust = path.extension().is_some_and(|e| e == "rs");
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if is_rust && t.starts_with("#[cfg(test)]") {
            break;
        }
        if (is_rust && t.starts_with("//")) || t.starts_with("{#") {
            continue;
        }
        out.push((n + 1, line.to_owned()));
    }
    out
}

#[test]
fn no_template_handler_use_case_or_query_spells_a_clinical_limit() {
    let root = root();
    let mut checked = Vec::new();
    files(&root.join("web/templates"), "html", &mut checked);
    for dir in ["crates/clinic-web/src", "crates/clinic-app/src", "crates/clinic-db/src"] {
        files(&root.join(dir), "rs", &mut checked);
    }
    // Test code and the bulk generator of test data are not what people see.
    checked.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !matches!(name, "tests.rs" | "testing.rs" | "properties.rs" | "bulk.rs")
    });
    assert!(checked.len() > 30, "{} files", checked.len());
    let mut found = Vec::new();
    for path in &checked {
        for (n, line) in checked_lines(path) {
            if let Some(what) = spelled_limit(&line) {
                let shown = path.strip_prefix(&root).unwrap_or(path).display().to_string();
                found.push(format!("{shown}:{n}: {what}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "clinical limits spelled outside clinic-domain (read them from clinic_domain::series):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_detector_finds_what_it_is_for() {
    for bad in [
        "<p>a 6th will be refused</p>",
        "Planned sessions (1–5; typical 1–3)",
        "SUM(CASE WHEN session_number > 3 THEN 1 ELSE 0 END)",
        "self.by_sessions[4..=5].iter().sum()",
        "Reason, when planning 4 or 5",
        "opened after a series that reached 5.",
        "the fifth session",
    ] {
        assert!(spelled_limit(bad).is_some(), "{bad:?} passed");
    }
    for fine in [
        "<h3>{{ s.condition_label }}</h3>",
        "expires_at: now + Duration::days(7),",
        "let (width, height, top, bottom) = (520u32, 260u32, 24u32, 28u32);",
        "Session {n} of a planned {p}",
        "format!(\"{:.3}\", s.share)",
        "2026-11-25",
    ] {
        assert!(
            spelled_limit(fine).is_none(),
            "{fine:?} flagged: {:?}",
            spelled_limit(fine)
        );
    }
}
