//! Consent: the clinic's own form (the product ships no wording) and a patient's signature of it.

use crate::FieldError;
use sha2::{Digest, Sha256};

const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 50_000;
const NAME_MAX: usize = 200;

fn text(field: &'static str, raw: &str, max: usize, lines: bool) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.replace("\r\n", "\n"))
}

/// A consent form as a manager writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentText {
    pub title: String,
    pub body: String,
}

impl ConsentText {
    pub fn parse(title: &str, body: &str) -> Result<Self, FieldError> {
        Ok(Self {
            title: text("title", title, TITLE_MAX, false)?,
            body: text("body", body, BODY_MAX, true)?,
        })
    }
}

/// The full name a patient types to sign.
pub fn typed_name(raw: &str) -> Result<String, FieldError> {
    text("typed_name", raw, NAME_MAX, false)
}

/// The SHA-256 (hex) of the exact text signed: the title, a blank line, the body.
pub fn text_sha256(title: &str, body: &str) -> String {
    let digest = Sha256::digest(format!("{title}\n\n{body}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_names_are_checked() {
        let form = ConsentText::parse(" Consent ", "Line one\r\nLine two").unwrap();
        assert_eq!(
            (form.title.as_str(), form.body.as_str()),
            ("Consent", "Line one\nLine two")
        );
        assert_eq!(ConsentText::parse(" ", "x").unwrap_err().field, "title");
        assert_eq!(ConsentText::parse("x", "").unwrap_err().field, "body");
        assert_eq!(ConsentText::parse("a\u{7}", "x").unwrap_err().field, "title");
        assert_eq!(typed_name("  Ana Silva ").unwrap(), "Ana Silva");
        assert!(typed_name("").is_err());
        assert!(typed_name(&"x".repeat(201)).is_err());
    }

    #[test]
    fn the_hash_binds_title_and_body() {
        let a = text_sha256("Consent", "I agree.");
        assert_eq!(a.len(), 64);
        assert_ne!(a, text_sha256("Consent", "I agree!"));
        assert_ne!(a, text_sha256("Consent.", "I agree."));
        assert_eq!(a, text_sha256("Consent", "I agree."));
    }
}
