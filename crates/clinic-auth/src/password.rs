use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

/// OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// Verified against when an account does not exist, so the answer takes as long as a wrong password.
pub const DUMMY_HASH_INPUT: &str = "no such account: dummy password";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password must be at least 8 characters")]
    TooShort,
    #[error("a password must be at most 128 characters")]
    TooLong,
    #[error("this password is among the most common ones and easy to guess; choose another")]
    TooCommon,
    #[error("the password could not be hashed")]
    Hashing,
}

/// A password that meets the policy: 8 to 128 characters, any characters, never truncated.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if n > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if is_common_password(raw) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../data/common-passwords.txt").lines().collect());

/// True when the password, in lower case, is among the most common passwords (see data/README.md).
pub fn is_common_password(raw: &str) -> bool {
    COMMON.contains(raw.to_lowercase().as_str())
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within argon2's documented bounds.
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// An argon2id PHC string with a fresh random salt. CPU-heavy: call it off the async workers.
pub fn hash_password(password: &Password) -> Result<String, PasswordError> {
    argon2()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// True when `candidate` matches the stored hash; false for a mismatch or an unreadable hash.
pub fn verify_password(candidate: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => argon2().verify_password(candidate.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_bounds_count_characters_not_bytes() {
        assert_eq!(Password::parse("short").err(), Some(PasswordError::TooShort));
        assert!(Password::parse("ééééééé").is_err(), "7 characters");
        assert!(Password::parse("éééééééé").is_ok(), "8 characters");
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(Password::parse(&"x".repeat(129)).err(), Some(PasswordError::TooLong));
        assert_eq!(
            format!("{:?}", Password::parse("secret-password").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        assert!(COMMON.len() >= 10_000, "{}", COMMON.len());
        for p in ["password", "Password1", "iloveyou", "QWERTYUIOP", "trustno1"] {
            assert_eq!(Password::parse(p).err(), Some(PasswordError::TooCommon), "{p}");
        }
        assert!(Password::parse("violet kettle harbour").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let p = Password::parse("correct horse battery").unwrap();
        let a = hash_password(&p).unwrap();
        let b = hash_password(&p).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batter", &a));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let long = "y".repeat(128);
        let h = hash_password(&Password::parse(&long).unwrap()).unwrap();
        assert!(!verify_password(&"y".repeat(127), &h));
        assert!(verify_password(&long, &h));
    }
}
