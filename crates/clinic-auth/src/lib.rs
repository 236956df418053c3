//! Authentication primitives: argon2id password hashes and the password policy, signed session
//! tokens, one-time codes, CSRF tokens and the sign-in back-off.
//!
//! Error policy: [`PasswordError`] and [`TokenError`] say what is wrong in words a user can act on (a
//! token error is never more specific to the client than "sign in again"); a failed password
//! verification is `false`, never an error, so callers cannot confuse the two.

mod codes;
mod password;
mod throttle;
mod token;

pub use codes::{csrf_token, generate_code, generate_secret, hash_code, normalize_code, verify_csrf, OneTimeCode};
pub use password::{hash_password, is_common_password, verify_password, Password, PasswordError, DUMMY_HASH_INPUT};
pub use throttle::{backoff_after, ACCOUNT_FAILURE_LIMIT};
pub use token::{Claims, TokenError, TokenKeys, AUDIENCE, ISSUER, LEEWAY_SECS};
