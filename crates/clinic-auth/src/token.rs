//! Session tokens: HS256 JWTs whose `sid` names a row of `login_sessions`. The token only says who and
//! which session; role and account status are read from the database on every request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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

/// The signing key, and the verifier keyed with it.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    /// HMAC-SHA256 already keyed: each check clones it instead of hashing the key again.
    mac: Hmac<Sha256>,
}

/// The one header field a check reads; any other algorithm is refused.
#[derive(Deserialize)]
struct TokenHeader {
    alg: String,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            mac: <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!()),
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

    /// Checks signature, algorithm, issuer, audience and expiry (against the system clock). Every
    /// claim is required. Written out rather than left to `jsonwebtoken::decode`, which parses the claims
    /// twice: this runs on every API request (docs/performance.md).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| TokenError::Invalid)?
            .as_secs();
        self.verify_at(token, i64::try_from(now).map_err(|_| TokenError::Invalid)?)
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let (header, payload) = signed.split_once('.').ok_or(TokenError::Invalid)?;
        // The signature first: nothing unsigned is parsed. The comparison takes constant time.
        let mut mac = self.mac.clone();
        mac.update(signed.as_bytes());
        mac.verify_slice(&unbase64(signature)?)
            .map_err(|_| TokenError::Invalid)?;
        let header: TokenHeader = serde_json::from_slice(&unbase64(header)?).map_err(|_| TokenError::Invalid)?;
        let claims: Claims = serde_json::from_slice(&unbase64(payload)?).map_err(|_| TokenError::Invalid)?;
        let expired = claims.exp.saturating_add(LEEWAY_SECS) < now;
        if header.alg != "HS256" || claims.iss != ISSUER || claims.aud != AUDIENCE || expired {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

fn unbase64(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// jsonwebtoken's own check with the rules [`TokenKeys::verify`] applies, to compare against.
    fn library_verify(token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS as u64;
        let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
        jsonwebtoken::decode::<Claims>(token, &key, &validation).map(|d| d.claims)
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
        let t = keys.issue(7, "s1", 1_000, 2_000).unwrap();
        assert!(keys.verify_at(&t, 2_000).is_ok());
        assert!(keys.verify_at(&t, 2_000 + LEEWAY_SECS).is_ok());
        assert_eq!(keys.verify_at(&t, 2_001 + LEEWAY_SECS), Err(TokenError::Invalid));
    }

    #[test]
    fn a_token_round_trips() {
        let keys = TokenKeys::new(SECRET);
        let t = keys.issue(7, "s1", now(), now() + 600).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!((c.sub.as_str(), c.sid.as_str()), ("7", "s1"));
        assert_eq!(library_verify(&t).unwrap(), c);
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
            assert!(library_verify(&token).is_err(), "jsonwebtoken agrees: {name}");
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
