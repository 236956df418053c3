use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;
use subtle::ConstantTimeEq;

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

const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

fn params() -> Params {
    // The parameters are constants within argon2's documented bounds.
    Params::new(MEMORY_KIB, ITERATIONS, LANES, Some(OUTPUT_BYTES)).unwrap_or_default()
}

thread_local! {
    /// argon2's working memory (19 MiB), kept by each thread between hashes: allocating it per hash
    /// left freed copies in the allocator's per-thread arenas and the server grew by hundreds of MB.
    static WORK: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The raw argon2 output for `password` and `salt` into `out`, in this thread's working memory.
fn compute(argon: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    WORK.with_borrow_mut(|blocks| {
        blocks.resize(params.block_count(), Block::new());
        argon
            .hash_password_into_with_memory(password, salt, out, blocks.as_mut_slice())
            .is_ok()
    })
}

/// An argon2id PHC string with a fresh random salt. CPU-heavy: call it off the async workers.
pub fn hash_password(password: &Password) -> Result<String, PasswordError> {
    let params = params();
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|_| PasswordError::Hashing)?;
    let mut out = [0u8; OUTPUT_BYTES];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    if !compute(&argon, &params, password.expose().as_bytes(), &salt, &mut out) {
        return Err(PasswordError::Hashing);
    }
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hashing)?,
        salt: Some(Salt::new(&salt).map_err(|_| PasswordError::Hashing)?),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hashing)?),
    };
    Ok(phc.to_string())
}

/// True when `candidate` matches the stored hash (compared in constant time); false for a mismatch
/// or an unreadable hash. Reads the algorithm and parameters from the hash, so older hashes verify.
pub fn verify_password(candidate: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    compute(&argon, &params, candidate.as_bytes(), salt, &mut out) && bool::from(out.ct_eq(expected.as_bytes()))
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
    fn hashes_made_by_the_argon2_crate_itself_verify_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let lib = Argon2::new(Algorithm::Argon2id, Version::V0x13, params());
        let theirs = lib.hash_password(b"correct horse battery").unwrap().to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batterY", &theirs));
        let ours = hash_password(&Password::parse("correct horse battery").unwrap()).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(lib.verify_password(b"correct horse battery", &parsed).is_ok());
        // A hash made with other parameters (an older policy) still verifies.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 3, 1, None).unwrap(),
        );
        let old_hash = older.hash_password(b"correct horse battery").unwrap().to_string();
        assert!(verify_password("correct horse battery", &old_hash));
        assert!(!verify_password("wrong", &old_hash));
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let long = "y".repeat(128);
        let h = hash_password(&Password::parse(&long).unwrap()).unwrap();
        assert!(!verify_password(&"y".repeat(127), &h));
        assert!(verify_password(&long, &h));
    }
}
