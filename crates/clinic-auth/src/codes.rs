use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A one-time code shown to a person once (e.g. `7K3Q-9XWM-T2DP-H4RA`): 16 symbols, 80 random bits.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeCode(String);

impl OneTimeCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(***)")
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

/// A new random code from the operating system's generator.
pub fn generate_code() -> Result<OneTimeCode, getrandom::Error> {
    let bytes = random_bytes::<10>()?;
    // 80 bits as 16 five-bit symbols.
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let symbols: Vec<char> = (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    let groups: Vec<String> = symbols.chunks(4).map(|c| c.iter().collect()).collect();
    Ok(OneTimeCode(groups.join("-")))
}

/// A code as typed: case, spaces and dashes ignored, and the letters people confuse with digits
/// read as the digits (O as 0, I and L as 1).
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// The stored form of a code: SHA-256 of its normalized symbols, hex. (The code has 80 random bits,
/// so a fast hash is enough; it is never stored or logged in the clear.)
pub fn hash_code(typed: &str) -> String {
    hex(&Sha256::digest(normalize_code(typed).as_bytes()))
}

/// A random secret of 32 bytes, hex (e.g. a generated signing key).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    Ok(hex(&random_bytes::<32>()?))
}

/// Lower-case hex, two digits a byte (a page's CSRF token is one: no formatting machinery per byte).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn mac(key: &[u8], purpose: &str, value: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(purpose.as_bytes());
    m.update(b"\0");
    m.update(value.as_bytes());
    hex(&m.finalize().into_bytes())
}

/// The CSRF token of a login session (or of an anonymous form's nonce): an HMAC under the signing key.
pub fn csrf_token(key: &[u8], session_or_nonce: &str) -> String {
    mac(key, "csrf", session_or_nonce)
}

/// Compares a submitted CSRF token in constant time.
pub fn verify_csrf(key: &[u8], session_or_nonce: &str, submitted: &str) -> bool {
    let expected = csrf_token(key, session_or_nonce);
    expected.len() == submitted.len() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_random_and_typeable() {
        let a = generate_code().unwrap();
        let b = generate_code().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 19);
        assert_eq!(a.as_str().split('-').count(), 4);
        assert!(a.as_str().chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_eq!(format!("{a:?}"), "OneTimeCode(***)");
    }

    #[test]
    fn typed_codes_match_however_written() {
        let code = generate_code().unwrap();
        let sloppy = code.as_str().to_lowercase().replace('-', " ");
        assert_eq!(hash_code(code.as_str()), hash_code(&sloppy));
        assert_eq!(normalize_code("o1-il"), "0111");
        assert_ne!(hash_code("AAAA-AAAA"), hash_code("AAAA-AAAB"));
        assert_eq!(hash_code("x").len(), 64);
    }

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let expected: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), expected);
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn csrf_tokens_bind_to_the_session_and_key() {
        let t = csrf_token(b"key", "session-1");
        assert!(verify_csrf(b"key", "session-1", &t));
        assert!(!verify_csrf(b"key", "session-2", &t));
        assert!(!verify_csrf(b"other", "session-1", &t));
        assert!(!verify_csrf(b"key", "session-1", ""));
    }

    #[test]
    fn secrets_are_256_bits() {
        let s = generate_secret().unwrap();
        assert_eq!(s.len(), 64);
        assert_ne!(s, generate_secret().unwrap());
    }
}
