//! Every sentence of the clinic's post-procedure sheet reaches the right stage of the timeline,
//! and every item of the protocol restates sentences that really are on the sheet, in that stage.

use clinic_domain::protocol::{CHECK_IN_LAST_DAY, EXPECTED_EFFECTS, Effect, Protocol, StageKey};

const SHEET: &str = include_str!("fixtures/post-procedure-sheet.txt");

/// Lines of the sheet that are headings or connecting words, not clinical facts.
const NOT_CLINICAL: &[&str] = &["Micro-Needling Post Procedure", "Follow these simple steps:"];

/// The sheet's sentences, each with the stage its paragraph belongs to.
fn sheet_sentences() -> Vec<(StageKey, String)> {
    let headings = [
        ("Day of procedure:", StageKey::DayOf),
        ("Day 1:", StageKey::Day1),
        ("Days 2-7:", StageKey::Days2To7),
        ("Days 7+:", StageKey::Day7Plus),
    ];
    // The opening caution (anti-inflammatories "immediately after") belongs to the day of the procedure.
    let mut stage = StageKey::DayOf;
    let mut out = Vec::new();
    for paragraph in SHEET.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let mut body = paragraph;
        for (heading, key) in headings {
            if let Some(rest) = paragraph.strip_prefix(heading) {
                stage = key;
                body = rest.trim();
            }
        }
        let mut sentence = String::new();
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            sentence.push(c);
            let ends = matches!(c, '.' | '!' | ':') && chars.peek().is_none_or(|n| n.is_whitespace());
            if ends || chars.peek().is_none() {
                let s = sentence.trim().to_owned();
                if !s.is_empty() && !NOT_CLINICAL.contains(&s.as_str()) {
                    out.push((stage, s));
                }
                sentence.clear();
            }
        }
    }
    out
}

#[test]
fn the_sheet_is_split_as_expected() {
    let sentences = sheet_sentences();
    assert_eq!(sentences.len(), 23, "{sentences:#?}");
    assert!(
        sentences[0]
            .1
            .starts_with("Immediately after your Micro-Needling procedure")
    );
}

#[test]
fn every_sentence_of_the_sheet_reaches_its_stage() {
    let protocol = Protocol::default();
    for (stage, sentence) in sheet_sentences() {
        let carriers: Vec<_> = protocol
            .items
            .iter()
            .filter(|i| i.sources.contains(&sentence.as_str()))
            .collect();
        assert!(!carriers.is_empty(), "no protocol item restates: {sentence}");
        for item in carriers {
            assert_eq!(item.stage, stage, "{sentence}");
        }
    }
}

#[test]
fn every_item_restates_the_sheet_and_nothing_else() {
    let sentences = sheet_sentences();
    for item in Protocol::default().items {
        assert!(!item.sources.is_empty(), "{item:?} cites nothing");
        for source in item.sources {
            assert!(
                sentences.iter().any(|(stage, s)| s == source && *stage == item.stage),
                "{source:?} is not a sentence of the sheet in stage {:?}",
                item.stage
            );
        }
    }
}

#[test]
fn the_check_in_windows_restate_the_sheet() {
    let sentences = sheet_sentences();
    let (first, last) = StageKey::Days2To7.days();
    for window in EXPECTED_EFFECTS {
        assert!(!window.sources.is_empty(), "{window:?} cites nothing");
        for source in window.sources {
            assert!(
                sentences
                    .iter()
                    .any(|(stage, s)| s == source && *stage == StageKey::Days2To7),
                "{source:?} is not a sentence of the sheet's days 2-7"
            );
        }
        assert!(window.first_day <= window.last_day, "{window:?}");
        assert!(
            window.last_day <= CHECK_IN_LAST_DAY,
            "{window:?} outlasts the check-ins"
        );
        // The sheet's days 2-7 paragraph gives every window; bruising from the day itself, as it
        // follows the procedure around the eyes.
        assert!(window.last_day <= last.map_or(i64::MAX, |l| l as i64), "{window:?}");
        if window.effect != Effect::EyeAreaBruising {
            assert_eq!(window.first_day, first as i64, "{window:?}");
        }
    }
    assert_eq!(
        EXPECTED_EFFECTS.iter().map(|w| w.effect).collect::<Vec<_>>(),
        Effect::ALL.to_vec(),
        "one window per effect a patient can report"
    );
    // "three or four days": bruising up to day 4.
    assert_eq!(Effect::EyeAreaBruising.window().last_day, 4);
}
