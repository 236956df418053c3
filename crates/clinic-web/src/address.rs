//! The client's address: the peer, or, behind a configured proxy, the last address it was forwarded for.

use actix_web::HttpRequest;
use std::net::IpAddr;

pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    // Walk X-Forwarded-For from the right, skipping our own proxies; the first other hop is the client.
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted_proxies.contains(ip))
        .copied()
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:5000").parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(&req("203.0.113.9", Some("1.2.3.4")), &[proxy]),
            "203.0.113.9"
        );
        assert_eq!(client_address(&req("10.0.0.1", Some("1.2.3.4")), &[proxy]), "1.2.3.4");
        assert_eq!(
            client_address(&req("10.0.0.1", Some("6.6.6.6, 1.2.3.4")), &[proxy]),
            "1.2.3.4"
        );
        assert_eq!(client_address(&req("10.0.0.1", None), &[proxy]), "10.0.0.1");
        assert_eq!(client_address(&req("10.0.0.1", Some("1.2.3.4")), &[]), "10.0.0.1");
    }
}
