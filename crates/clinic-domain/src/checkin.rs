//! A patient's check-in on a day after their session: which of the effects the sheet describes they
//! have, and whether something happened that the aftercare did not tell them to expect. What is
//! unexpected, or an expected effect outside the days the sheet gives it, is flagged for the provider.

use crate::FieldError;
use crate::protocol::{CHECK_IN_LAST_DAY, Effect};
use crate::session::Notes;
use std::str::FromStr;

impl FromStr for Effect {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        Effect::ALL.into_iter().find(|e| e.code() == s.trim()).ok_or_else(|| {
            FieldError::new(
                "effects",
                "each must be dryness, flaking, shedding or eye_area_bruising",
            )
        })
    }
}

/// The effects reported: a set, in a fixed order, possibly empty.
pub fn parse_effects<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Vec<Effect>, FieldError> {
    let mut v = codes.into_iter().map(str::parse).collect::<Result<Vec<Effect>, _>>()?;
    v.sort();
    v.dedup();
    Ok(v)
}

/// Why a check-in is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckInRefusal {
    #[error(
        "check-ins are open from the day of the procedure to day {CHECK_IN_LAST_DAY}; for anything later, contact your clinic"
    )]
    Closed,
    #[error("say in a few words what happened that the aftercare did not tell you to expect")]
    NoteRequired,
    #[error("the area around your eyes was not treated in this session, so bruising there is not one of its effects")]
    EyeAreaNotTreated,
}

/// Whether a check-in is flagged for the provider, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub flagged: bool,
    pub reasons: Vec<String>,
}

/// Judges a check-in on `day` (days since the procedure) of a session whose eye area was treated or not.
pub fn judge(
    day: i64,
    eye_area: bool,
    effects: &[Effect],
    unexpected: bool,
    note: Option<&Notes>,
) -> Result<Judged, CheckInRefusal> {
    if !(0..=CHECK_IN_LAST_DAY).contains(&day) {
        return Err(CheckInRefusal::Closed);
    }
    if effects.contains(&Effect::EyeAreaBruising) && !eye_area {
        return Err(CheckInRefusal::EyeAreaNotTreated);
    }
    let mut reasons = Vec::new();
    if unexpected {
        let Some(note) = note else {
            return Err(CheckInRefusal::NoteRequired);
        };
        reasons.push(format!("Something the aftercare did not mention: {}", note.as_str()));
    }
    for effect in effects {
        let w = effect.window();
        if day < w.first_day || day > w.last_day {
            let expected = if w.first_day == 0 {
                format!("up to day {}", w.last_day)
            } else {
                format!("on days {} to {}", w.first_day, w.last_day)
            };
            reasons.push(format!(
                "{} on day {day}: the aftercare expects it {expected}",
                effect.label()
            ));
        }
    }
    Ok(Judged {
        flagged: !reasons.is_empty(),
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Effect::*;

    fn note(s: &str) -> Notes {
        Notes::parse("note", Some(s)).unwrap().unwrap()
    }

    #[test]
    fn expected_effects_in_their_window_are_not_flagged() {
        for day in 2..=7 {
            let judged = judge(day, false, &[Dryness, Flaking, Shedding], false, None).unwrap();
            assert!(!judged.flagged, "day {day}");
        }
        for day in 0..=4 {
            assert!(
                !judge(day, true, &[EyeAreaBruising], false, None).unwrap().flagged,
                "day {day}"
            );
        }
        assert!(!judge(0, false, &[], false, None).unwrap().flagged);
    }

    #[test]
    fn outside_its_window_or_unexpected_is_flagged_with_reasons() {
        let j = judge(1, false, &[Dryness], false, None).unwrap();
        assert!(j.flagged && j.reasons[0].contains("day 1") && j.reasons[0].contains("days 2 to 7"));
        let j = judge(5, true, &[EyeAreaBruising], false, None).unwrap();
        assert!(j.flagged && j.reasons[0].contains("up to day 4"), "{j:?}");
        let j = judge(3, false, &[], true, Some(&note("a rash on my neck"))).unwrap();
        assert!(j.flagged && j.reasons[0].contains("a rash on my neck"));
        let j = judge(0, false, &[Shedding], true, Some(&note("itching"))).unwrap();
        assert_eq!(j.reasons.len(), 2);
    }

    #[test]
    fn refusals() {
        assert_eq!(judge(8, false, &[], false, None), Err(CheckInRefusal::Closed));
        assert_eq!(judge(-1, false, &[], false, None), Err(CheckInRefusal::Closed));
        assert_eq!(judge(3, false, &[], true, None), Err(CheckInRefusal::NoteRequired));
        assert_eq!(
            judge(3, false, &[EyeAreaBruising], false, None),
            Err(CheckInRefusal::EyeAreaNotTreated)
        );
        assert_eq!(
            parse_effects(["flaking", "dryness", "flaking"]),
            Ok(vec![Dryness, Flaking])
        );
        assert!(parse_effects(["itching"]).is_err());
    }
}
