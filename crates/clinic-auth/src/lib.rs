//! Authentication primitives: argon2id password hashes, one-time codes and signing keys.
//!
//! Error policy: [`AuthError`] says what is wrong with a password in words a user can act on; a
//! failed verification is `Ok(false)`, never an error, so callers cannot confuse the two.

mod codes;
mod password;

pub use codes::{OneTimeCode, generate_code, generate_secret, hash_code, normalize_code};
pub use password::{DUMMY_HASH_INPUT, Password, PasswordError, hash_password, verify_password};
