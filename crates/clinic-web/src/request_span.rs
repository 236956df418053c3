//! The span around each request: its method, route and request id, which every line logged while it
//! is handled names, and its status when it ends.
//!
//! `tracing-actix-web`'s default span also formats the host, scheme, client address, user agent and
//! target, and finds the route by testing the path against the router's patterns (regexes) once more;
//! this one reads the route from a table of [`routes`] split into segments, and computes its fields only
//! when the span is enabled (`RUST_LOG` at `info` or finer).

use crate::routes::routes;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use std::sync::OnceLock;
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // The fields' values are computed only when the span is enabled.
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route_of(request.path()).unwrap_or("default"),
            request_id = request.extensions().get::<RequestId>().copied().map(tracing::field::display),
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // The default records the status, and formats an error's text: only worth it when kept.
        if !span.is_disabled() {
            DefaultRootSpanBuilder::on_request_end(span, outcome);
        }
    }
}

/// One segment of a route's path: literal text, or a `{name}` that matches any non-empty segment.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Literal(&'static str),
    Parameter,
}

/// The pattern of the route `path` is served by, as the router would choose it: a literal segment
/// wins over a parameter in the same place (`/patients/new` over `/patients/{id}`).
fn route_of(path: &str) -> Option<&'static str> {
    type Table = Vec<Vec<(Vec<Segment>, &'static str)>>;
    // The patterns by their number of segments.
    static TABLE: OnceLock<Table> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = Table::new();
        for route in routes() {
            let pattern = segments(route.path);
            if table.len() <= pattern.len() {
                table.resize_with(pattern.len() + 1, Vec::new);
            }
            table[pattern.len()].push((pattern, route.path));
        }
        for patterns in &mut table {
            // Literal before parameter at the first place two patterns differ: the first match wins.
            patterns.sort();
            patterns.dedup();
        }
        table
    });
    let path = path.strip_prefix('/')?;
    let count = path.bytes().filter(|&b| b == b'/').count() + 1;
    table
        .get(count)?
        .iter()
        .find(|(pattern, _)| {
            pattern
                .iter()
                .zip(path.split('/'))
                .all(|(segment, part)| match segment {
                    Segment::Literal(text) => *text == part,
                    Segment::Parameter => !part.is_empty(),
                })
        })
        .map(|(_, path)| *path)
}

fn segments(path: &'static str) -> Vec<Segment> {
    path[1..]
        .split('/')
        .map(|part| {
            if part.starts_with('{') {
                Segment::Parameter
            } else {
                Segment::Literal(part)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{RequestSpan, route_of};
    use crate::routes::{configure, routes};
    use actix_web::{App, HttpResponse, test, web};
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_actix_web::TracingLogger;

    /// What the router itself names as the pattern of `path`.
    async fn router_pattern(path: &str) -> String {
        let app = test::init_service(App::new().configure(configure).wrap_fn(|req, _| {
            let pattern = req.match_pattern().unwrap_or_else(|| "none".into());
            std::future::ready(Ok(req.into_response(HttpResponse::Ok().body(pattern))))
        }))
        .await;
        let body = test::call_and_read_body(&app, test::TestRequest::get().uri(path).to_request()).await;
        String::from_utf8(body.to_vec()).expect("utf-8")
    }

    #[actix_web::test]
    async fn every_path_is_named_by_the_route_the_router_chooses() {
        let mut paths: Vec<String> = routes()
            .iter()
            .flat_map(|route| {
                // Each parameter as a number, and as a word that is also a literal elsewhere.
                ["7", "new", "series"].map(|value| {
                    route
                        .path
                        .split('/')
                        .map(|part| if part.starts_with('{') { value } else { part })
                        .collect::<Vec<_>>()
                        .join("/")
                })
            })
            .collect();
        paths.extend(
            [
                "/nowhere",
                "/api/nowhere",
                "/patients/7/nowhere",
                "/patients//edit",
                "/api/v1/me/",
                "/api",
                "/patients/",
            ]
            .map(String::from),
        );
        for path in paths {
            assert_eq!(
                route_of(&path).unwrap_or("none"),
                router_pattern(&path).await,
                "the route of {path}"
            );
        }
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lines").extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn a_line_logged_during_a_request_names_its_method_route_and_id() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(App::new().wrap(TracingLogger::<RequestSpan>::new()).route(
            "/patients/{id}",
            web::get().to(|| async {
                tracing::warn!("inside");
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        test::call_service(&app, test::TestRequest::get().uri("/patients/42").to_request()).await;
        let text = String::from_utf8(lines.0.lock().expect("lines").clone()).expect("utf-8");
        let line = text.lines().find(|l| l.contains("inside")).expect("the line");
        assert!(line.contains("http.method=GET"), "{line}");
        assert!(line.contains("http.route=\"/patients/{id}\""), "{line}");
        let id = line.split("request_id=").nth(1).expect("a request id");
        assert!(id.len() >= 36, "{line}");
    }
}
