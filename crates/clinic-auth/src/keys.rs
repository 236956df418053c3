//! Keys derived from the server's one secret, one per purpose (HKDF-SHA256), so that a value made for
//! one purpose never checks for another; and the signed links made with them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A 256-bit key for one purpose, derived from the server's secret.
#[derive(Clone)]
pub struct DerivedKey([u8; 32]);

impl DerivedKey {
    pub fn derive(secret: &[u8], purpose: &str) -> Self {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8,160, so expand cannot fail.
        let _ = Hkdf::<Sha256>::new(Some(b"clinic key derivation"), secret).expand(purpose.as_bytes(), &mut key);
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(message.as_bytes());
        mac
    }

    /// A link token naming `id`: `7-<128 bits of HMAC>`.
    pub fn sign_id(&self, id: i64) -> String {
        let tag = self.mac(&id.to_string()).finalize().into_bytes();
        format!("{id}-{}", URL_SAFE_NO_PAD.encode(&tag[..16]))
    }

    /// The id a token made by [`Self::sign_id`] names, if it is genuine (checked in constant time).
    pub fn verify_id(&self, token: &str) -> Option<i64> {
        let (id, tag) = token.split_once('-')?;
        let id: i64 = id.parse().ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != 16 {
            return None;
        }
        self.mac(&id.to_string()).verify_truncated_left(&tag).ok()?;
        Some(id)
    }
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey(***)")
    }
}

/// The purposes keys are derived for.
pub const UNSUBSCRIBE: &str = "unsubscribe links";
pub const SESSION_TOKENS: &str = "session tokens";
pub const CSRF_TOKENS: &str = "csrf tokens";
pub const TOTP_SECRETS: &str = "totp secrets";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_id_and_nothing_else_verifies() {
        let key = DerivedKey::derive(b"a server secret of thirty-two by", UNSUBSCRIBE);
        let t = key.sign_id(42);
        assert!(t.starts_with("42-"));
        assert_eq!(key.verify_id(&t), Some(42));
        assert_eq!(key.verify_id(&t.replace("42-", "43-")), None);
        let other = DerivedKey::derive(b"a server secret of thirty-two by", "another purpose");
        assert_eq!(other.verify_id(&t), None);
        assert_ne!(key.as_bytes(), other.as_bytes());
        for junk in ["", "-", "42", "42-", "x-AAAA", "42-AAAAAAAAAAAAAAAAAAAAAA"] {
            assert_eq!(key.verify_id(junk), None, "{junk:?}");
        }
    }
}
