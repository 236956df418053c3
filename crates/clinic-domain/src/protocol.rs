//! The default aftercare protocol: the clinic's post-procedure sheet, restated stage by stage.
//!
//! This is data. Every item names the sheet's sentences it comes from (`sources`, quoted exactly), so a
//! test can prove that each sentence of the sheet reaches its stage and that nothing here goes beyond it.

use serde::Serialize;

/// The four stages of the timeline, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum StageKey {
    #[serde(rename = "day_of")]
    DayOf,
    #[serde(rename = "day_1")]
    Day1,
    #[serde(rename = "days_2_7")]
    Days2To7,
    #[serde(rename = "day_7_plus")]
    Day7Plus,
}

impl StageKey {
    pub const ALL: [StageKey; 4] = [StageKey::DayOf, StageKey::Day1, StageKey::Days2To7, StageKey::Day7Plus];

    pub fn as_str(self) -> &'static str {
        match self {
            StageKey::DayOf => "day_of",
            StageKey::Day1 => "day_1",
            StageKey::Days2To7 => "days_2_7",
            StageKey::Day7Plus => "day_7_plus",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            StageKey::DayOf => "Day of procedure",
            StageKey::Day1 => "Day 1",
            StageKey::Days2To7 => "Days 2–7",
            StageKey::Day7Plus => "Day 7 onward",
        }
    }

    /// First and last day (counted from the procedure, day 0); `None` when open-ended.
    pub fn days(self) -> (u64, Option<u64>) {
        match self {
            StageKey::DayOf => (0, Some(0)),
            StageKey::Day1 => (1, Some(1)),
            StageKey::Days2To7 => (2, Some(7)),
            StageKey::Day7Plus => (7, None),
        }
    }
}

impl StageKey {
    /// A stage named by its key ("day_of", "day_1", "days_2_7", "day_7_plus").
    pub fn parse(field: &'static str, raw: &str) -> Result<StageKey, crate::FieldError> {
        StageKey::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim())
            .ok_or_else(|| crate::FieldError::new(field, "must be one of day_of, day_1, days_2_7, day_7_plus"))
    }
}

/// What a patient may report at a check-in: the effects the sheet tells them to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    Dryness,
    Flaking,
    Shedding,
    EyeAreaBruising,
}

impl Effect {
    pub const ALL: [Effect; 4] = [
        Effect::Dryness,
        Effect::Flaking,
        Effect::Shedding,
        Effect::EyeAreaBruising,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Effect::Dryness => "dryness",
            Effect::Flaking => "flaking",
            Effect::Shedding => "shedding",
            Effect::EyeAreaBruising => "eye_area_bruising",
        }
    }

    /// How the portal names it.
    pub fn label(self) -> &'static str {
        match self {
            Effect::Dryness => "Dry skin",
            Effect::Flaking => "Flaking",
            Effect::Shedding => "Shedding skin",
            Effect::EyeAreaBruising => "Light bruising around the eyes",
        }
    }

    /// The days (from the procedure, day 0) in which the sheet tells the patient to expect it.
    pub fn window(self) -> &'static ExpectedEffect {
        EXPECTED_EFFECTS
            .iter()
            .find(|e| e.effect == self)
            .unwrap_or(&EXPECTED_EFFECTS[0])
    }
}

/// When the sheet tells the patient to expect an effect, and the sentences that say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedEffect {
    pub effect: Effect,
    pub first_day: i64,
    pub last_day: i64,
    /// The sheet's sentences this window restates, verbatim.
    pub sources: &'static [&'static str],
}

/// The windows of the expected effects: a check-in that reports one outside its window is flagged for
/// the provider.
pub const EXPECTED_EFFECTS: &[ExpectedEffect] = &[
    ExpectedEffect {
        effect: Effect::Dryness,
        first_day: 2,
        last_day: 7,
        sources: &[
            "Within two (2) days following your Micro-Needling procedure, you will notice skin dryness and flaking.",
        ],
    },
    ExpectedEffect {
        effect: Effect::Flaking,
        first_day: 2,
        last_day: 7,
        sources: &[
            "Within two (2) days following your Micro-Needling procedure, you will notice skin dryness and flaking.",
        ],
    },
    ExpectedEffect {
        effect: Effect::Shedding,
        first_day: 2,
        last_day: 7,
        sources: &["Days later, your skin will start shedding."],
    },
    ExpectedEffect {
        effect: Effect::EyeAreaBruising,
        first_day: 0,
        last_day: 4,
        sources: &[
            "If your medical professional used the roller or needle device around the eyes, you may have a little micro bruising that may exist for three or four days.",
        ],
    },
];

/// The last day a patient may check in about a session (the days the sheet describes, 0 to 7).
pub const CHECK_IN_LAST_DAY: i64 = 7;

/// Whether an item is an ordinary instruction or a caution to show prominently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Instruction,
    Caution,
}

/// When an item applies to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Always,
    /// Only when the area around the eyes was treated.
    EyeAreaTreated,
    /// Only when the provider applied at least one product.
    ProductsApplied,
}

/// An item's words: fixed, or filled from the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Fixed(&'static str),
    /// "After the procedure your provider applied …", listing exactly what was applied.
    ProductsApplied,
    /// The provider's instructions, with their own notes when they wrote any.
    ProviderInstructions,
    /// "Session 2 of a planned 3; a typical course is 1–3 sessions, at most 5."
    SeriesPosition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub stage: StageKey,
    pub kind: Kind,
    pub shown: Shown,
    pub text: Text,
    /// The sheet's sentences this item restates, verbatim.
    pub sources: &'static [&'static str],
}

/// The protocol a clinic's timelines are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    pub items: &'static [Item],
}

impl Default for Protocol {
    fn default() -> Self {
        Self { items: DEFAULT_ITEMS }
    }
}

use Kind::{Caution, Instruction};
use StageKey::{Day1, Day7Plus, DayOf, Days2To7};

const fn item(stage: StageKey, kind: Kind, shown: Shown, text: Text, sources: &'static [&'static str]) -> Item {
    Item {
        stage,
        kind,
        shown,
        text,
        sources,
    }
}

const DEFAULT_ITEMS: &[Item] = &[
    item(
        DayOf,
        Caution,
        Shown::Always,
        Text::Fixed(
            "Do not take anti-inflammatory medication such as Ibuprofen, Motrin or Advil after your procedure: \
             it interferes with the natural inflammation that your skin's renewal depends on.",
        ),
        &[
            "Immediately after your Micro-Needling procedure, do not take any anti-inflammatory medications such as Ibuprofen, Motrin or Advil.",
            "These agents will interfere with the natural inflammatory process that is critical and responsible for your skin rejuvenation.",
        ],
    ),
    item(
        DayOf,
        Instruction,
        Shown::Always,
        Text::Fixed("Before the procedure, keep your face bare: no lotions, makeup or other topical products."),
        &["No lotions, makeup or other topical products on your face before your procedure."],
    ),
    item(
        DayOf,
        Instruction,
        Shown::ProductsApplied,
        Text::ProductsApplied,
        &[
            "After your procedure your medical provider may apply a lipo-peptide booster, skin moisturizer, and sun screen.",
        ],
    ),
    item(
        DayOf,
        Instruction,
        Shown::Always,
        Text::Fixed("Before bed you may wash your face with a gentle cleanser."),
        &["You may clean your face with a gentle cleanser before bed."],
    ),
    item(
        Day1,
        Instruction,
        Shown::Always,
        Text::Fixed(
            "You may wash your face as usual and go back to your usual makeup, lotions and other topical products.",
        ),
        &[
            "On the next day, you may clean your face as usual and apply makeup, lotions and other topical products as usual.",
        ],
    ),
    item(
        Day1,
        Caution,
        Shown::Always,
        Text::Fixed(
            "Avoid exfoliants and cleansers that contain glycolic acid: after the procedure they can leave your skin very dry.",
        ),
        &[
            "Stay away from exfoliants or glycolic acids that are present in cleansers as these can make your skin very dry after the procedure.",
        ],
    ),
    item(
        Day1,
        Caution,
        Shown::Always,
        Text::Fixed("Use an approved sunscreen of SPF 30 or higher."),
        &["Be sure to use an approved SPF30 or greater sunscreen!"],
    ),
    item(
        Days2To7,
        Instruction,
        Shown::Always,
        Text::Fixed(
            "From about the second day your skin may feel dry and flake: your skin cells are renewing faster than usual.",
        ),
        &[
            "Within two (2) days following your Micro-Needling procedure, you will notice skin dryness and flaking.",
            "This is due to an increased turnover of skin cells.",
        ],
    ),
    item(
        Days2To7,
        Instruction,
        Shown::Always,
        Text::Fixed("You may use your regular moisturizer."),
        &["During this period, you may apply your regular skin moisturizer."],
    ),
    item(
        Days2To7,
        Instruction,
        Shown::Always,
        Text::ProviderInstructions,
        &["Follow the instructions given to you by your medical professional."],
    ),
    item(
        Days2To7,
        Caution,
        Shown::EyeAreaTreated,
        Text::Fixed(
            "The area around your eyes was treated, so a little micro-bruising may show there for three to four days; \
             makeup covers it easily.",
        ),
        &[
            "If your medical professional used the roller or needle device around the eyes, you may have a little micro bruising that may exist for three or four days.",
            "This can easily be covered with makeup.",
        ],
    ),
    item(
        Days2To7,
        Instruction,
        Shown::Always,
        Text::Fixed(
            "A few days in, your skin will start to shed: layers that would normally come off a week later are \
             brought to the surface sooner.",
        ),
        &[
            "Days later, your skin will start shedding.",
            "These are skin layers that would regularly shed a week later, but the Micro-Needling brings this skin to the surface sooner.",
        ],
    ),
    item(
        Days2To7,
        Instruction,
        Shown::Always,
        Text::Fixed("The shedding is temporary; your skin will feel dry while it lasts."),
        &["During this temporary process, your skin will shed and be dry."],
    ),
    item(
        Day7Plus,
        Instruction,
        Shown::Always,
        Text::Fixed(
            "About a week after the procedure, most patients notice that their skin is smoother and more radiant.",
        ),
        &[
            "A week after the Micro-Needling procedure, most patients notice that their skin is smoother and more radiant.",
        ],
    ),
    item(
        Day7Plus,
        Instruction,
        Shown::Always,
        Text::Fixed("Results differ from one patient to another."),
        &["Of course, results may vary from patient to patient."],
    ),
    item(
        Day7Plus,
        Instruction,
        Shown::Always,
        Text::SeriesPosition,
        &[
            "Results vary, but usually a course of 1-3 treatments (maximum of 5, depending on the condition being treated) is typically recommended.",
        ],
    ),
    item(
        Day7Plus,
        Caution,
        Shown::Always,
        Text::Fixed(
            "If you need more sessions than a course allows, consult your provider first: needing more may point to an \
             underlying medical condition that has not been recognised.",
        ),
        &[
            "If you require MORE procedures than this, you may have an unrecognized underlying medical condition and should consult with your provider.",
        ],
    ),
    item(
        Day7Plus,
        Instruction,
        Shown::Always,
        Text::Fixed("The healthier your body, the better your results: your overall health shows in your skin."),
        &[
            "Keep in mind that the healthier your body is, the better will be the results you achieve from a Micro-Needling procedure.",
            "Your body's function and overall health are reflected in your skin.",
        ],
    ),
];
