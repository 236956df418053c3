//! Authentication primitives: argon2id password hashes and the password policy, signed session
//! tokens, one-time codes, CSRF tokens and the sign-in back-off.
//!
//! Error policy: [`PasswordError`] and [`TokenError`] say what is wrong in words a user can act on (a
//! token error is never more specific to the client than "sign in again"); a failed password
//! verification is `false`, never an error, so callers cannot confuse the two.

mod codes;
mod keys;
pub mod mfa;
mod password;
mod throttle;
mod token;

pub use codes::{OneTimeCode, csrf_token, generate_code, generate_secret, hash_code, normalize_code, verify_csrf};
pub use keys::{CSRF_TOKENS, DerivedKey, SESSION_TOKENS, TOTP_SECRETS, UNSUBSCRIBE};
pub use password::{DUMMY_HASH_INPUT, Password, PasswordError, hash_password, is_common_password, verify_password};
pub use throttle::{Allowance, CODES_PER_ADDRESS, PER_ACCOUNT, PER_ACCOUNT_AND_ADDRESS, PER_ADDRESS};
pub use token::{AUDIENCE, Claims, ISSUER, LEEWAY_SECS, TokenError, TokenKeys};
