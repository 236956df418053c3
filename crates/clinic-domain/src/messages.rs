//! The e-mails the clinic sends a patient, and when: the aftercare of the day when a session is
//! recorded, and a reminder at the clinic's reminder hour on the first day of each later stage of the
//! timeline. Their bodies are the stage's instructions and cautions, nothing else clinical.

use crate::clinic::ReminderHour;
use crate::protocol::StageKey;
use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    Invitation,
    AftercareDayOf,
    ReminderDay1,
    ReminderDays2To7,
    ReminderDay7Plus,
    PasswordReset,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Invitation,
        MessageKind::AftercareDayOf,
        MessageKind::ReminderDay1,
        MessageKind::ReminderDays2To7,
        MessageKind::ReminderDay7Plus,
        MessageKind::PasswordReset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Invitation => "invitation",
            MessageKind::AftercareDayOf => "aftercare_day_of",
            MessageKind::ReminderDay1 => "reminder_day_1",
            MessageKind::ReminderDays2To7 => "reminder_days_2_7",
            MessageKind::ReminderDay7Plus => "reminder_day_7_plus",
            MessageKind::PasswordReset => "password_reset",
        }
    }

    /// How the clinic's pages name it.
    pub fn label(self) -> String {
        match (self, self.stage()) {
            (MessageKind::Invitation, _) => "Portal invitation".into(),
            (MessageKind::PasswordReset, _) => "Password reset".into(),
            (MessageKind::AftercareDayOf, Some(stage)) => format!("Aftercare: {}", stage.title()),
            (_, Some(stage)) => format!("Reminder: {}", stage.title()),
            (_, None) => self.as_str().into(),
        }
    }

    /// The timeline stage an aftercare message or reminder carries.
    pub fn stage(self) -> Option<StageKey> {
        match self {
            MessageKind::AftercareDayOf => Some(StageKey::DayOf),
            MessageKind::ReminderDay1 => Some(StageKey::Day1),
            MessageKind::ReminderDays2To7 => Some(StageKey::Days2To7),
            MessageKind::ReminderDay7Plus => Some(StageKey::Day7Plus),
            MessageKind::Invitation | MessageKind::PasswordReset => None,
        }
    }

    /// Aftercare and reminders, which a patient may refuse (invitations and resets always go).
    pub fn may_be_refused(self) -> bool {
        self.stage().is_some()
    }

    fn reminder_for(stage: StageKey) -> MessageKind {
        match stage {
            StageKey::DayOf => MessageKind::AftercareDayOf,
            StageKey::Day1 => MessageKind::ReminderDay1,
            StageKey::Days2To7 => MessageKind::ReminderDays2To7,
            StageKey::Day7Plus => MessageKind::ReminderDay7Plus,
        }
    }
}

impl FromStr for MessageKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One aftercare e-mail of a session and when it goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    pub kind: MessageKind,
    pub at: DateTime<Utc>,
}

/// `hour`:00 on `date` at the clinic, in UTC. An hour the clocks skip (spring forward) becomes the first
/// moment after the gap; an hour they repeat (fall back) is its first occurrence.
pub fn local_hour(tz: Tz, date: NaiveDate, hour: ReminderHour) -> DateTime<Utc> {
    let mut local = date.and_time(NaiveTime::from_hms_opt(u32::from(hour.get()), 0, 0).unwrap_or(NaiveTime::MIN));
    // No zone skips more than a day; a minute at a time finds the end of any gap.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => local += chrono::Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

/// The aftercare e-mails of a session performed on `performed_on` (day 0 at the clinic): the day of the
/// procedure's at once (`now`) while day 1 has not passed, and a reminder at `hour` on the first day of
/// each later stage. Reminders whose time has passed are left out.
pub fn aftercare_schedule(performed_on: NaiveDate, tz: Tz, hour: ReminderHour, now: DateTime<Utc>) -> Vec<Scheduled> {
    let today = now.with_timezone(&tz).date_naive();
    let mut out = Vec::new();
    for stage in StageKey::ALL {
        let (first, _) = stage.days();
        let kind = MessageKind::reminder_for(stage);
        if stage == StageKey::DayOf {
            let day_one = performed_on.checked_add_days(Days::new(1)).unwrap_or(performed_on);
            if today <= day_one {
                out.push(Scheduled { kind, at: now });
            }
            continue;
        }
        let Some(day) = performed_on.checked_add_days(Days::new(first)) else {
            continue;
        };
        let at = local_hour(tz, day, hour);
        if at > now {
            out.push(Scheduled { kind, at });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Europe::London;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
    }

    #[test]
    fn reminders_keep_the_local_hour_across_a_daylight_saving_change() {
        // New York springs forward on Sunday 2027-03-14: 9:00 is 14:00 UTC before, 13:00 UTC after.
        let now = utc(2027, 3, 12, 15, 0);
        let s = aftercare_schedule(d(2027, 3, 12), New_York, ReminderHour::parse(9).unwrap(), now);
        let got: Vec<(&str, DateTime<Utc>)> = s.iter().map(|s| (s.kind.as_str(), s.at)).collect();
        assert_eq!(
            got,
            [
                ("aftercare_day_of", now),
                ("reminder_day_1", utc(2027, 3, 13, 14, 0)),
                ("reminder_days_2_7", utc(2027, 3, 14, 13, 0)),
                ("reminder_day_7_plus", utc(2027, 3, 19, 13, 0)),
            ]
        );
    }

    #[test]
    fn an_hour_the_clocks_skip_or_repeat_still_gets_one_time() {
        // 02:30 does not exist in New York on 2027-03-14; 01:00 happens twice on 2027-11-07.
        let skipped = local_hour(New_York, d(2027, 3, 14), ReminderHour::parse(2).unwrap());
        assert_eq!(
            skipped,
            utc(2027, 3, 14, 7, 0),
            "03:00 EDT, the first moment after the gap"
        );
        let repeated = local_hour(New_York, d(2027, 11, 7), ReminderHour::parse(1).unwrap());
        assert_eq!(repeated, utc(2027, 11, 7, 5, 0), "the first 01:00 (EDT)");
        assert_eq!(
            local_hour(London, d(2027, 7, 1), ReminderHour::DEFAULT),
            utc(2027, 7, 1, 8, 0)
        );
    }

    #[test]
    fn nothing_is_scheduled_in_the_past() {
        let hour = ReminderHour::DEFAULT;
        // Recorded three days late: day 1 and the start of days 2–7 have passed.
        let now = utc(2027, 1, 13, 12, 0);
        let s = aftercare_schedule(d(2027, 1, 10), London, hour, now);
        assert_eq!(
            s.iter().map(|s| s.kind).collect::<Vec<_>>(),
            [MessageKind::ReminderDay7Plus]
        );
        // Recorded the next morning: the day-of message still goes, with the later reminders.
        let s = aftercare_schedule(d(2027, 1, 10), London, hour, utc(2027, 1, 11, 8, 0));
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|m| m.kind.may_be_refused()));
        assert!(!MessageKind::Invitation.may_be_refused() && !MessageKind::PasswordReset.may_be_refused());
    }
}
