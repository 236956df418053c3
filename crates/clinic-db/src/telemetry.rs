//! A `tracing` span around every query and transaction (target `clinic_db::query`, level debug): the
//! SQL text and how long it took, never the values bound to it (they may be patient data). Off at the
//! default `info` level, where a query costs one check of whether the span is enabled.

use diesel::connection::{Instrumentation, InstrumentationEvent};
use tracing::{Level, Span};

#[derive(Default)]
pub(crate) struct QuerySpans {
    query: Option<Span>,
    transactions: Vec<Span>,
}

/// The statement without the `-- binds: […]` that diesel's debug text appends.
fn sql_only(query: &dyn std::fmt::Display) -> String {
    let text = query.to_string();
    match text.split_once(" -- binds: ") {
        Some((sql, _)) => sql.to_owned(),
        None => text,
    }
}

impl Instrumentation for QuerySpans {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if !tracing::enabled!(target: "clinic_db::query", Level::DEBUG) {
            return;
        }
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.query = Some(tracing::debug_span!(target: "clinic_db::query", "query", sql = %sql_only(query)));
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(span) = self.query.take()
                    && let Some(e) = error
                {
                    span.in_scope(|| tracing::debug!(target: "clinic_db::query", error = %e, "query failed"));
                }
            }
            InstrumentationEvent::BeginTransaction { depth, .. } => {
                self.transactions
                    .push(tracing::debug_span!(target: "clinic_db::query", "transaction", depth = depth.get()));
            }
            InstrumentationEvent::CommitTransaction { .. } | InstrumentationEvent::RollbackTransaction { .. } => {
                self.transactions.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bound_values_are_left_out() {
        assert_eq!(
            super::sql_only(&"SELECT 1 WHERE email = ? -- binds: [\"ana@mail.example\"]"),
            "SELECT 1 WHERE email = ?"
        );
    }
}
