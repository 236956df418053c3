//! Error policy: parsing user input returns a [`FieldError`] naming the field and saying, in words a
//! clinic's staff understand, what is wrong. Rule refusals have their own enums beside the rules
//! (`series::SessionRefusal`, `series::OpenSeriesRefusal`), each with a stable machine code.

use std::fmt;

/// One field of user input that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}
