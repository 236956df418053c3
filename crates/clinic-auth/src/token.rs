//! Session tokens: HS256 JWTs whose `sid` names a row of `login_sessions`. The token only says who and
//! which session; role and account status are read from the database on every request.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, new_error};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};

pub const ISSUER: &str = "clinic";
pub const AUDIENCE: &str = "clinic";
/// Clock skew tolerated on `exp`.
pub const LEEWAY_SECS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The login session id.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not valid")]
    Invalid,
    #[error("the token could not be signed")]
    Signing,
}

/// HMAC-SHA256 for jsonwebtoken, over RustCrypto's `hmac`: the one algorithm this product signs and
/// accepts. jsonwebtoken's own RustCrypto backend would bring RSA, ECDSA and EdDSA with it (and with
/// RSA a known timing advisory, RUSTSEC-2023-0071) for algorithms nothing here uses.
mod hs256 {
    use super::*;

    pub(super) struct Hs256(Hmac<Sha256>);

    impl Hs256 {
        fn keyed(key: &[u8]) -> jsonwebtoken::errors::Result<Self> {
            Hmac::new_from_slice(key)
                .map(Self)
                .map_err(|_| new_error(ErrorKind::InvalidKeyFormat))
        }
    }

    impl Signer<Vec<u8>> for Hs256 {
        fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
            let mut mac = self.0.clone();
            mac.update(msg);
            Ok(mac.finalize().into_bytes().to_vec())
        }
    }

    impl Verifier<Vec<u8>> for Hs256 {
        /// Compared in constant time.
        fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
            let mut mac = self.0.clone();
            mac.update(msg);
            mac.verify_slice(signature).map_err(signature::Error::from_source)
        }
    }

    impl JwtSigner for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    impl JwtVerifier for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    fn signer(alg: &Algorithm, key: &EncodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
        if *alg != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
            return Err(new_error(ErrorKind::InvalidAlgorithm));
        }
        Ok(Box::new(Hs256::keyed(key.as_bytes())?))
    }

    fn verifier(alg: &Algorithm, key: &DecodingKey) -> jsonwebtoken::errors::Result<Box<dyn JwtVerifier>> {
        if *alg != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
            return Err(new_error(ErrorKind::InvalidAlgorithm));
        }
        Ok(Box::new(Hs256::keyed(key.try_get_as_bytes()?)?))
    }

    pub(super) static PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: signer,
        verifier_factory: verifier,
        key_utils: KeyUtils::new_unimplemented(),
    };
}

/// Installs the HS256 provider once per process (before any token is signed or checked).
fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means a provider is installed already; only this crate installs one.
        let _ = hs256::PROVIDER.install_default();
    });
}

/// Tokens kept at most by [`Verified`]; when full, it starts again.
const VERIFIED_CAPACITY: usize = 1024;

/// Tokens these keys accepted lately, by their exact text, with their claims: a token presented again
/// is not parsed and its signature not checked again, but its expiry is, at every use. Only tokens
/// jsonwebtoken accepted are kept, so anything else is checked in full every time.
#[derive(Default)]
struct Verified(Mutex<HashMap<Box<str>, Claims>>);

impl Verified {
    /// The claims of `token` if it was accepted and has not expired at `now` (seconds since the
    /// epoch), by jsonwebtoken's rule: expired when `exp` is before `now` less the leeway.
    fn live(&self, token: &str, now: i64) -> Option<Claims> {
        let kept = self.0.lock().ok()?;
        kept.get(token)
            .filter(|c| c.exp >= now.saturating_sub(LEEWAY_SECS))
            .cloned()
    }

    fn keep(&self, token: &str, claims: &Claims) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= VERIFIED_CAPACITY {
                kept.clear();
            }
            kept.insert(token.into(), claims.clone());
        }
    }
}

/// The signing key, and jsonwebtoken's verifier keyed with it and set to this product's rules.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Arc<Validation>,
    /// Shared by clones, never by keys made apart.
    verified: Arc<Verified>,
}

impl TokenKeys {
    /// The keys for session tokens, derived from the server's secret for this purpose alone.
    pub fn from_server_secret(secret: &[u8]) -> Self {
        Self::new(crate::keys::DerivedKey::derive(secret, crate::keys::SESSION_TOKENS).as_bytes())
    }

    /// Keys that sign and check with `secret` itself.
    pub fn new(secret: &[u8]) -> Self {
        install_provider();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: Arc::new(validation),
            verified: Arc::default(),
        }
    }

    pub fn issue(&self, user_id: i64, session_id: &str, issued_at: i64, expires_at: i64) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_owned(),
            iat: issued_at,
            exp: expires_at,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|_| TokenError::Signing)
    }

    /// jsonwebtoken's check: signature (HS256 only; `none` and every other algorithm refused), issuer,
    /// audience, expiry (against the system clock, with the leeway), every claim present. A token these
    /// keys accepted before has only its expiry checked again.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        if let Some(claims) = self.verified.live(token, now) {
            return Ok(claims);
        }
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| TokenError::Invalid)?;
        self.verified.keep(token, &claims);
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn forge(header: serde_json::Value, claims: serde_json::Value, secret: &[u8]) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let msg = format!("{h}.{c}");
        let key = EncodingKey::from_secret(secret);
        let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{msg}.{sig}")
    }

    fn claims(overrides: serde_json::Value) -> serde_json::Value {
        let mut c = json!({"sub": "7", "sid": "s1", "iat": now(), "exp": now() + 600, "iss": ISSUER, "aud": AUDIENCE});
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    }

    proptest::proptest! {
        #[test]
        fn no_altered_token_verifies(at in 0usize..400, byte in 0u8..128, junk in "\\PC{0,300}") {
            let keys = TokenKeys::new(SECRET);
            let good = keys.issue(7, "s1", now(), now() + 600).unwrap();
            let mut altered = good.clone().into_bytes();
            let at = at % altered.len();
            if altered[at] != byte {
                altered[at] = byte;
                let altered = String::from_utf8_lossy(&altered).into_owned();
                proptest::prop_assert_eq!(keys.verify(&altered), Err(TokenError::Invalid));
            }
            proptest::prop_assert_eq!(keys.verify(&junk), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let keys = TokenKeys::new(SECRET);
        let within = keys.issue(7, "s1", now() - 600, now() - LEEWAY_SECS + 2).unwrap();
        assert!(keys.verify(&within).is_ok());
        let past = keys.issue(7, "s1", now() - 600, now() - LEEWAY_SECS - 2).unwrap();
        assert_eq!(keys.verify(&past), Err(TokenError::Invalid));
    }

    #[test]
    fn an_accepted_token_is_kept_by_its_exact_text_and_still_expires() {
        let keys = TokenKeys::new(SECRET);
        let exp = now() + 600;
        let token = keys.issue(7, "s1", now(), exp).unwrap();
        let first = keys.verify(&token).unwrap();
        assert_eq!(
            keys.verified.live(&token, now()),
            Some(first.clone()),
            "kept once accepted"
        );
        assert_eq!(keys.verify(&token), Ok(first));
        // Kept, it still expires by the same rule as an unkept one: the leeway and no more.
        assert!(keys.verified.live(&token, exp + LEEWAY_SECS).is_some());
        assert_eq!(keys.verified.live(&token, exp + LEEWAY_SECS + 1), None);
        // Refused tokens are not kept; keys made apart (another secret) share nothing.
        let mut altered = token.clone();
        altered.push('A');
        assert_eq!(keys.verify(&altered), Err(TokenError::Invalid));
        assert_eq!(keys.verified.live(&altered, now()), None);
        let other = TokenKeys::new(b"another secret of thirty-two byte");
        assert_eq!(other.verify(&token), Err(TokenError::Invalid));
        assert_eq!(
            keys.clone().verified.live(&token, now()).map(|c| c.sid),
            Some("s1".to_owned())
        );
    }

    #[test]
    fn the_kept_tokens_stay_within_their_bound() {
        let keys = TokenKeys::new(SECRET);
        for n in 0..=VERIFIED_CAPACITY {
            let token = keys.issue(7, &format!("s{n}"), now(), now() + 600).unwrap();
            assert!(keys.verify(&token).is_ok());
        }
        assert!(keys.verified.0.lock().unwrap().len() <= VERIFIED_CAPACITY);
    }

    #[test]
    fn only_hs256_is_signed_or_checked() {
        let _ = TokenKeys::new(SECRET);
        let key = EncodingKey::from_secret(SECRET);
        for alg in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            assert!(jsonwebtoken::crypto::sign(b"x.y", &key, alg).is_err(), "{alg:?}");
        }
        let rs256 = json!({"alg": "RS256", "typ": "JWT"});
        let keys = TokenKeys::new(SECRET);
        assert_eq!(
            keys.verify(&forge(rs256, claims(json!({})), SECRET)),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_round_trips() {
        let keys = TokenKeys::new(SECRET);
        let t = keys.issue(7, "s1", now(), now() + 600).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("7", "s1"));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let keys = TokenKeys::new(SECRET);
        let hs256 = json!({"alg": "HS256", "typ": "JWT"});
        // The forger helper itself produces acceptable tokens.
        assert!(keys.verify(&forge(hs256.clone(), claims(json!({})), SECRET)).is_ok());
        let cases = [
            (
                "bad signature",
                forge(hs256.clone(), claims(json!({})), b"another secret of thirty-two byte"),
            ),
            (
                "expired",
                forge(hs256.clone(), claims(json!({"exp": now() - 60})), SECRET),
            ),
            (
                "missing exp",
                forge(hs256.clone(), claims(json!({"exp": null})), SECRET),
            ),
            (
                "missing aud",
                forge(hs256.clone(), claims(json!({"aud": null})), SECRET),
            ),
            (
                "wrong aud",
                forge(hs256.clone(), claims(json!({"aud": "elsewhere"})), SECRET),
            ),
            (
                "missing iss",
                forge(hs256.clone(), claims(json!({"iss": null})), SECRET),
            ),
            (
                "missing iat",
                forge(hs256.clone(), claims(json!({"iat": null})), SECRET),
            ),
            (
                "HS384",
                forge(json!({"alg": "HS384", "typ": "JWT"}), claims(json!({})), SECRET),
            ),
        ];
        for (name, token) in cases {
            assert_eq!(keys.verify(&token), Err(TokenError::Invalid), "{name}");
        }
        // alg none: a header and claims with an empty signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
            URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
        );
        assert_eq!(keys.verify(&none), Err(TokenError::Invalid));
        // An edited payload keeps the old signature.
        let good = keys.issue(7, "s1", now(), now() + 600).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let edited = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims(json!({"sub": "1"})).to_string()),
            parts[2]
        );
        assert_eq!(keys.verify(&edited), Err(TokenError::Invalid));
        assert_eq!(keys.verify("garbage"), Err(TokenError::Invalid));
    }
}
