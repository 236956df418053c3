//! The patient's timeline as JSON, kept per session. A timeline is a function of its session row, its
//! series row and the clinic's day (`clinic_app::timeline::build`), so an entry is reused only when all
//! three are equal to what the request has just read: a correction, a void, a new session in the series
//! or a new day gives new bytes. Reading and auditing happen as before; building the timeline and
//! serialising it are saved.

use crate::views::TimelineView;
use actix_web::web::Bytes;
use chrono::NaiveDate;
use clinic_app::timeline::Found;
use clinic_db::kept::Kept;
use clinic_db::series::{Series, Session};
use clinic_domain::SessionId;

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
    entries: Kept<SessionId, Entry, CAPACITY>,
}

impl TimelineCache {
    /// The timeline of `found` as the JSON of [`TimelineView`], built only when no equal inputs are kept.
    pub fn json(&self, found: Found) -> serde_json::Result<Bytes> {
        let id = found.session.id;
        if let Some(e) = self.entries.get(&id)
            && e.today == found.today
            && e.session == found.session
            && e.series == found.series
        {
            return Ok(e.body.clone());
        }
        let (session, series, today) = (found.session.clone(), found.series.clone(), found.today);
        let body = Bytes::from(serde_json::to_vec(&TimelineView::from(found.built()))?);
        let entry = Entry {
            session,
            series,
            today,
            body: body.clone(),
        };
        self.entries.keep(id, entry);
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::tests::session_fixture;

    /// The fixture's session as read on the fixture's day.
    fn fixture() -> Found {
        let st = session_fixture();
        Found {
            today: st.timeline.today,
            session: st.session,
            series: st.series,
        }
    }

    fn fixture_with(change: impl FnOnce(&mut Found)) -> Found {
        let mut found = fixture();
        change(&mut found);
        found
    }

    fn direct(found: Found) -> Vec<u8> {
        serde_json::to_vec(&TimelineView::from(found.built())).unwrap()
    }

    #[test]
    fn the_kept_bytes_are_what_serialising_gives_and_change_with_every_input() {
        let cache = TimelineCache::default();
        let first = cache.json(fixture()).unwrap();
        assert_eq!(first.as_ref(), direct(fixture()).as_slice());
        assert_eq!(cache.json(fixture()).unwrap(), first, "same inputs, same bytes");

        // A correction of the session.
        let corrected = |f: &mut Found| {
            f.session.revision = 2;
            f.session.notes = Some("Corrected note.".into());
        };
        let body = cache.json(fixture_with(corrected)).unwrap();
        assert!(String::from_utf8_lossy(&body).contains("Corrected note."));
        assert_eq!(body.as_ref(), direct(fixture_with(corrected)).as_slice());
        assert_ne!(body, first);

        // The series moved on (another session recorded), the session unchanged.
        let moved = |f: &mut Found| f.series.sessions_recorded = 3;
        assert_eq!(
            cache.json(fixture_with(moved)).unwrap().as_ref(),
            direct(fixture_with(moved)).as_slice()
        );

        // The next day.
        let next_day = |f: &mut Found| f.today = f.today.succ_opt().unwrap();
        let next = cache.json(fixture_with(next_day)).unwrap();
        assert_eq!(next.as_ref(), direct(fixture_with(next_day)).as_slice());
        assert_ne!(next, first);
    }

    #[test]
    fn a_full_cache_starts_again_and_still_answers() {
        let cache = TimelineCache::default();
        for id in 0..(CAPACITY as i64 + 10) {
            let numbered = |f: &mut Found| f.session.id = SessionId(id);
            assert_eq!(
                cache.json(fixture_with(numbered)).unwrap().as_ref(),
                direct(fixture_with(numbered)).as_slice()
            );
        }
        assert!(cache.entries.len() <= CAPACITY);
    }
}
