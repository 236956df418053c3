//! The patient's timeline as JSON, kept per session. A timeline is a function of its session row, its
//! series row and the clinic's day (`clinic_app::timeline::build`), so an entry is reused only when all
//! three are equal to what the request has just read: a correction, a void, a new session in the series
//! or a new day gives new bytes. Reading and auditing happen as before; only the serialising is saved.

use crate::views::TimelineView;
use actix_web::web::Bytes;
use chrono::NaiveDate;
use clinic_app::timeline::SessionTimeline;
use clinic_db::series::{Series, Session};
use clinic_domain::SessionId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept at most (about 4 KB each); when full, the map starts again.
const CAPACITY: usize = 1024;

struct Entry {
    session: Session,
    series: Series,
    today: NaiveDate,
    body: Bytes,
}

#[derive(Default)]
pub struct TimelineCache {
    entries: Mutex<HashMap<SessionId, Arc<Entry>>>,
}

impl TimelineCache {
    /// `found` as the JSON of [`TimelineView`].
    pub fn json(&self, found: SessionTimeline) -> serde_json::Result<Bytes> {
        let id = found.session.id;
        let kept = self.entries.lock().ok().and_then(|m| m.get(&id).cloned());
        if let Some(e) = kept
            && e.today == found.timeline.today
            && e.session == found.session
            && e.series == found.series
        {
            return Ok(e.body.clone());
        }
        let (session, series, today) = (found.session.clone(), found.series.clone(), found.timeline.today);
        let body = Bytes::from(serde_json::to_vec(&TimelineView::from(found))?);
        if let Ok(mut m) = self.entries.lock() {
            if m.len() >= CAPACITY && !m.contains_key(&id) {
                m.clear();
            }
            let entry = Entry {
                session,
                series,
                today,
                body: body.clone(),
            };
            m.insert(id, Arc::new(entry));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::tests::session_fixture;
    use clinic_app::timeline::build;

    fn direct(found: SessionTimeline) -> Vec<u8> {
        serde_json::to_vec(&TimelineView::from(found)).unwrap()
    }

    fn rebuilt(mut found: SessionTimeline, today: NaiveDate) -> SessionTimeline {
        found.timeline = build(&found.session, &found.series, today);
        found
    }

    #[test]
    fn the_kept_bytes_are_what_serialising_gives_and_change_with_every_input() {
        let cache = TimelineCache::default();
        let first = cache.json(session_fixture()).unwrap();
        assert_eq!(first.as_ref(), direct(session_fixture()).as_slice());
        assert_eq!(cache.json(session_fixture()).unwrap(), first, "same inputs, same bytes");

        // A correction of the session.
        let mut corrected = session_fixture();
        corrected.session.revision = 2;
        corrected.session.notes = Some("Corrected note.".into());
        let corrected = rebuilt(corrected, session_fixture().timeline.today);
        let body = cache.json(corrected).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("Corrected note."));
        assert_ne!(body, first);

        // The series moved on (another session recorded), the session unchanged.
        let mut moved = session_fixture();
        moved.series.sessions_recorded = 3;
        let expected = direct(session_fixture_with(|s| s.series.sessions_recorded = 3));
        assert_eq!(cache.json(moved).unwrap().as_ref(), expected.as_slice());

        // The next day.
        let today = session_fixture().timeline.today.succ_opt().unwrap();
        let next = cache.json(rebuilt(session_fixture(), today)).unwrap();
        assert_eq!(next.as_ref(), direct(rebuilt(session_fixture(), today)).as_slice());
        assert_ne!(next, first);
    }

    #[test]
    fn a_full_cache_starts_again_and_still_answers() {
        let cache = TimelineCache::default();
        for id in 0..(CAPACITY as i64 + 10) {
            let found = session_fixture_with(|s| s.session.id = SessionId(id));
            let expected = direct(session_fixture_with(|s| s.session.id = SessionId(id)));
            assert_eq!(cache.json(found).unwrap().as_ref(), expected.as_slice());
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }

    fn session_fixture_with(change: impl FnOnce(&mut SessionTimeline)) -> SessionTimeline {
        let mut found = session_fixture();
        change(&mut found);
        found
    }
}
