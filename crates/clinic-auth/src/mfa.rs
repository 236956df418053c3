//! The second factor: TOTP (RFC 6238; six digits, 30-second steps, HMAC-SHA-1, which every
//! authenticator app reads), its secret sealed at rest with a key of its own, and recovery codes.

use crate::keys::DerivedKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::Aead;
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Builder, Secret, Totp};

const DIGITS: usize = 6;
const STEP_SECS: u64 = 30;
/// Codes of the step before and after are accepted too (a phone's clock a little off).
const SKEW_STEPS: u64 = 1;
/// Recovery codes issued when a second factor is confirmed.
pub const RECOVERY_CODES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("no random bytes from the operating system: {0}")]
    Random(getrandom::Error),
    #[error("a stored second-factor secret could not be opened")]
    Sealed,
    #[error("the second-factor secret is not valid: {0}")]
    Secret(String),
}

/// A new TOTP secret: 20 random bytes (160 bits, RFC 4226's recommendation), in base32.
pub fn new_totp_secret() -> Result<String, MfaError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(MfaError::Random)?;
    Ok(Secret::from(bytes).to_base32())
}

/// The generator of `secret`; `label` (issuer, account) names it for an app.
fn totp(secret: &str, label: Option<(&str, &str)>) -> Result<Totp, MfaError> {
    let secret = Secret::try_from_base32(secret).map_err(|e| MfaError::Secret(format!("{e:?}")))?;
    let mut builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret);
    if let Some((issuer, account)) = label {
        // The otpauth label may not hold a colon.
        builder = builder
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "));
    }
    builder.build().map_err(|e| MfaError::Secret(format!("{e:?}")))
}

/// The `otpauth://` address an authenticator app scans.
pub fn otpauth_url(secret: &str, issuer: &str, account: &str) -> Result<String, MfaError> {
    totp(secret, Some((issuer, account)))?
        .to_url()
        .map_err(|e| MfaError::Secret(format!("{e:?}")))
}

/// The 30-second step whose code `typed` is at `unix_secs` (the step before and after count too).
/// The caller accepts a step once: a code is good only while its step is newer than the last taken.
pub fn matching_step(secret: &str, typed: &str, unix_secs: u64) -> Result<Option<u64>, MfaError> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret, None)?;
    let now = unix_secs / STEP_SECS;
    let found = (now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS).find(|step| {
        let expected = totp.generate(step * STEP_SECS).to_string();
        bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
    });
    Ok(found)
}

/// The code of `secret` at `unix_secs` (for tests and tools).
pub fn code_at(secret: &str, unix_secs: u64) -> Result<String, MfaError> {
    Ok(totp(secret, None)?.generate(unix_secs).to_string())
}

fn cipher(key: &DerivedKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(Key::from_slice(key.as_bytes()))
}

/// Seals a secret for storage (ChaCha20-Poly1305, a random nonce): `nonce‖ciphertext`, base64.
pub fn seal(key: &DerivedKey, secret: &str) -> Result<String, MfaError> {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).map_err(MfaError::Random)?;
    let sealed = cipher(key)
        .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
        .map_err(|_| MfaError::Sealed)?;
    let mut out = nonce.to_vec();
    out.extend(sealed);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

/// Opens what [`seal`] made with the same key.
pub fn open(key: &DerivedKey, sealed: &str) -> Result<String, MfaError> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| MfaError::Sealed)?;
    if bytes.len() < 12 {
        return Err(MfaError::Sealed);
    }
    let (nonce, body) = bytes.split_at(12);
    let plain = cipher(key)
        .decrypt(Nonce::from_slice(nonce), body)
        .map_err(|_| MfaError::Sealed)?;
    String::from_utf8(plain).map_err(|_| MfaError::Sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B: the ASCII key "12345678901234567890", the last six digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (t, code) in [(59, "287082"), (1_111_111_109, "081804"), (2_000_000_000, "279037")] {
            assert_eq!(code_at(&secret, t).unwrap(), code, "{t}");
            assert_eq!(matching_step(&secret, code, t).unwrap(), Some(t / 30));
        }
    }

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let secret = new_totp_secret().unwrap();
        let t = 1_800_000_000;
        let code = code_at(&secret, t).unwrap();
        assert_eq!(matching_step(&secret, &code, t + 30).unwrap(), Some(t / 30));
        assert_eq!(matching_step(&secret, &code, t + 90).unwrap(), None);
        assert_eq!(matching_step(&secret, "12 34 5", t).unwrap(), None);
        assert_eq!(matching_step(&secret, "abcdef", t).unwrap(), None);
    }

    #[test]
    fn sealed_secrets_open_with_their_key_only() {
        let key = DerivedKey::derive(b"server secret of some length....", crate::keys::TOTP_SECRETS);
        let other = DerivedKey::derive(b"server secret of some length....", crate::keys::CSRF_TOKENS);
        let sealed = seal(&key, "JBSWY3DPEHPK3PXP").unwrap();
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(open(&key, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(open(&other, &sealed).is_err());
        assert!(open(&key, "not sealed").is_err());
    }

    #[test]
    fn the_otpauth_url_names_issuer_and_account() {
        let url = otpauth_url(
            "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "Riverside: Skin",
            "chen@clinic.example",
        )
        .unwrap();
        assert!(url.starts_with("otpauth://totp/"), "{url}");
        assert!(url.contains("secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), "{url}");
        assert!(url.contains("issuer=Riverside"), "{url}");
    }
}
