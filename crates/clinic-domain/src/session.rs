//! What a provider records about one micro-needling session.

use crate::FieldError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Needle depth in millimetres, 0.10 to 3.00, kept as whole hundredths so that 0.25 mm stays exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NeedleDepth(u16);

impl NeedleDepth {
    pub const MIN_HUNDREDTHS: u16 = 10;
    pub const MAX_HUNDREDTHS: u16 = 300;
    pub const MIN: NeedleDepth = NeedleDepth(Self::MIN_HUNDREDTHS);
    pub const MAX: NeedleDepth = NeedleDepth(Self::MAX_HUNDREDTHS);

    pub fn from_mm(mm: f64) -> Result<Self, FieldError> {
        let err = || FieldError::new("needle_depth_mm", "must be between 0.1 and 3.0 mm, in steps of 0.01 mm");
        if !mm.is_finite() {
            return Err(err());
        }
        let scaled = mm * 100.0;
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6
            || rounded < f64::from(Self::MIN_HUNDREDTHS)
            || rounded > f64::from(Self::MAX_HUNDREDTHS)
        {
            return Err(err());
        }
        // In range 10..=300, so the conversion is exact.
        Ok(Self(rounded as u16))
    }

    pub fn from_hundredths(h: i64) -> Result<Self, FieldError> {
        u16::try_from(h)
            .ok()
            .filter(|h| (Self::MIN_HUNDREDTHS..=Self::MAX_HUNDREDTHS).contains(h))
            .map(Self)
            .ok_or_else(|| FieldError::new("needle_depth_mm", "must be between 0.1 and 3.0 mm"))
    }

    pub fn hundredths(self) -> u16 {
        self.0
    }

    pub fn mm(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for NeedleDepth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} mm", self.0 / 100, self.0 % 100)
    }
}

/// The date a session was performed: not after the clinic's today, and not before the patient was born.
pub fn performed_on(date: NaiveDate, today: NaiveDate, date_of_birth: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        return Err(FieldError::new("performed_on", "may not be in the future"));
    }
    if date < date_of_birth {
        return Err(FieldError::new(
            "performed_on",
            "may not be before the patient's date of birth",
        ));
    }
    Ok(date)
}

/// The instrument used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    Roller,
    Pen,
}

impl Device {
    pub const ALL: [Device; 2] = [Device::Pen, Device::Roller];

    pub fn as_str(self) -> &'static str {
        match self {
            Device::Roller => "roller",
            Device::Pen => "pen",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Device::Roller => "Roller",
            Device::Pen => "Pen",
        }
    }
}

impl FromStr for Device {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "roller" => Ok(Device::Roller),
            "pen" => Ok(Device::Pen),
            _ => Err(FieldError::new("device", "must be roller or pen")),
        }
    }
}

/// A product the provider may apply right after the procedure (the sheet names these three).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    LipoPeptideBooster,
    Moisturizer,
    Sunscreen,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::LipoPeptideBooster, Product::Moisturizer, Product::Sunscreen];

    pub fn code(self) -> &'static str {
        match self {
            Product::LipoPeptideBooster => "lipo_peptide_booster",
            Product::Moisturizer => "moisturizer",
            Product::Sunscreen => "sunscreen",
        }
    }

    /// How the patient's timeline names it in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Product::LipoPeptideBooster => "a lipo-peptide booster",
            Product::Moisturizer => "a skin moisturizer",
            Product::Sunscreen => "sunscreen",
        }
    }

    /// Its name on its own, for lists and forms.
    pub fn name(self) -> &'static str {
        match self {
            Product::LipoPeptideBooster => "Lipo-peptide booster",
            Product::Moisturizer => "Skin moisturizer",
            Product::Sunscreen => "Sunscreen",
        }
    }
}

impl FromStr for Product {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Product::ALL.into_iter().find(|p| p.code() == s.trim()).ok_or_else(|| {
            FieldError::new(
                "products_applied",
                "each must be lipo_peptide_booster, moisturizer or sunscreen",
            )
        })
    }
}

/// The products applied at the clinic: a set, in a fixed order, possibly empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ProductsApplied(Vec<Product>);

impl ProductsApplied {
    pub fn new(products: impl IntoIterator<Item = Product>) -> Self {
        let mut v: Vec<Product> = products.into_iter().collect();
        v.sort();
        v.dedup();
        Self(v)
    }

    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        codes
            .into_iter()
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    /// Comma-separated codes, as stored.
    pub fn to_codes(&self) -> String {
        self.0.iter().map(|p| p.code()).collect::<Vec<_>>().join(",")
    }

    pub fn from_codes(stored: &str) -> Result<Self, FieldError> {
        Self::parse(stored.split(',').filter(|s| !s.is_empty()))
    }

    pub fn as_slice(&self) -> &[Product] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A region of the body a session treats, from a fixed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Region {
    FullFace,
    Forehead,
    Temples,
    /// Around the eyes: treating it is what the sheet calls the eye area.
    Periorbital,
    Cheeks,
    Nose,
    Perioral,
    Chin,
    Jawline,
    Neck,
    Decolletage,
    Scalp,
    Hands,
    Abdomen,
    Thighs,
    Back,
    Other,
}

impl Region {
    pub const ALL: [Region; 17] = [
        Region::FullFace,
        Region::Forehead,
        Region::Temples,
        Region::Periorbital,
        Region::Cheeks,
        Region::Nose,
        Region::Perioral,
        Region::Chin,
        Region::Jawline,
        Region::Neck,
        Region::Decolletage,
        Region::Scalp,
        Region::Hands,
        Region::Abdomen,
        Region::Thighs,
        Region::Back,
        Region::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Region::FullFace => "full_face",
            Region::Forehead => "forehead",
            Region::Temples => "temples",
            Region::Periorbital => "periorbital",
            Region::Cheeks => "cheeks",
            Region::Nose => "nose",
            Region::Perioral => "perioral",
            Region::Chin => "chin",
            Region::Jawline => "jawline",
            Region::Neck => "neck",
            Region::Decolletage => "decolletage",
            Region::Scalp => "scalp",
            Region::Hands => "hands",
            Region::Abdomen => "abdomen",
            Region::Thighs => "thighs",
            Region::Back => "back",
            Region::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Region::FullFace => "Full face",
            Region::Forehead => "Forehead",
            Region::Temples => "Temples",
            Region::Periorbital => "Around the eyes (periorbital)",
            Region::Cheeks => "Cheeks",
            Region::Nose => "Nose",
            Region::Perioral => "Around the mouth (perioral)",
            Region::Chin => "Chin",
            Region::Jawline => "Jawline",
            Region::Neck => "Neck",
            Region::Decolletage => "Décolletage",
            Region::Scalp => "Scalp",
            Region::Hands => "Hands",
            Region::Abdomen => "Abdomen",
            Region::Thighs => "Thighs",
            Region::Back => "Back",
            Region::Other => "Other",
        }
    }

    /// A region as version 1 stored it (free text): its code, or the eye area in words; else `Other`.
    fn from_v1(text: &str) -> Region {
        let t = text.trim().to_lowercase();
        if let Some(r) = Region::ALL.into_iter().find(|r| r.code() == t) {
            return r;
        }
        if [
            "around the eyes",
            "eyes",
            "eye area",
            "under the eyes",
            "periorbital area",
        ]
        .contains(&t.as_str())
        {
            return Region::Periorbital;
        }
        Region::Other
    }
}

impl FromStr for Region {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        Region::ALL.into_iter().find(|r| r.code() == s.trim()).ok_or_else(|| {
            FieldError::new(
                "treatment_areas",
                format!("each must be one of {}", Region::ALL.map(Region::code).join(", ")),
            )
        })
    }
}

/// The regions treated: at least one, each once, in the list's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TreatmentAreas(Vec<Region>);

impl TreatmentAreas {
    const FIELD: &'static str = "treatment_areas";

    pub fn new(regions: impl IntoIterator<Item = Region>) -> Result<Self, FieldError> {
        let mut v: Vec<Region> = regions.into_iter().collect();
        v.sort();
        v.dedup();
        if v.is_empty() {
            return Err(FieldError::new(Self::FIELD, "choose at least one treated area"));
        }
        Ok(Self(v))
    }

    /// Region codes as a request gives them; blank entries are ignored.
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let regions = codes
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Region>, _>>()?;
        Self::new(regions)
    }

    /// Newline-separated codes, as stored.
    pub fn to_stored(&self) -> String {
        self.0.iter().map(|r| r.code()).collect::<Vec<_>>().join("\n")
    }

    /// As stored; version 1's free-text areas read as the region they name, or `Other`.
    pub fn from_stored(stored: &str) -> Result<Self, FieldError> {
        Self::new(stored.split('\n').filter(|s| !s.trim().is_empty()).map(Region::from_v1))
    }

    pub fn as_slice(&self) -> &[Region] {
        &self.0
    }

    /// The sheet's "eye area": exactly when the region around the eyes was treated.
    pub fn eye_area(&self) -> bool {
        self.0.contains(&Region::Periorbital)
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|r| r.code()).collect()
    }

    pub fn labels(&self) -> Vec<&'static str> {
        self.0.iter().map(|r| r.label()).collect()
    }
}

/// The eye area as a request states it, against the regions it names: `None` takes it from them; a
/// value that contradicts them is refused.
pub fn eye_area(stated: Option<bool>, areas: &TreatmentAreas) -> Result<bool, FieldError> {
    match stated {
        Some(e) if e != areas.eye_area() => Err(FieldError::new(
            "eye_area",
            "must match the treated areas: the eye area is treated exactly when periorbital is among them",
        )),
        _ => Ok(areas.eye_area()),
    }
}

/// Free-text notes of the provider: at most 2,000 characters; blank means none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notes(String);

impl Notes {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(field: &'static str, raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(text) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(field, "is at most 2000 characters"));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(FieldError::new(field, "may not contain control characters"));
        }
        // Every line ending becomes \n (a lone \r too), so a stored note parses back to itself.
        Ok(Some(Self(text.replace("\r\n", "\n").replace('\r', "\n"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needle_depth_bounds() {
        assert_eq!(NeedleDepth::from_mm(0.25).map(NeedleDepth::hundredths), Ok(25));
        assert_eq!(NeedleDepth::from_mm(0.1).map(NeedleDepth::hundredths), Ok(10));
        assert_eq!(NeedleDepth::from_mm(3.0).map(NeedleDepth::hundredths), Ok(300));
        for bad in [0.09, 3.01, 0.0, -1.0, 0.255, f64::NAN, f64::INFINITY] {
            assert!(NeedleDepth::from_mm(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(NeedleDepth::from_mm(1.5).unwrap().to_string(), "1.50 mm");
        assert!(NeedleDepth::from_hundredths(301).is_err());
        assert!(NeedleDepth::from_hundredths(-5).is_err());
    }

    #[test]
    fn products_are_a_set() {
        let p = ProductsApplied::parse(["sunscreen", "moisturizer", "sunscreen"]).unwrap();
        assert_eq!(p.as_slice(), [Product::Moisturizer, Product::Sunscreen]);
        assert_eq!(ProductsApplied::from_codes(&p.to_codes()), Ok(p));
        assert_eq!(ProductsApplied::from_codes(""), Ok(ProductsApplied::default()));
        assert!(ProductsApplied::parse(["retinol"]).is_err());
    }

    #[test]
    fn treatment_areas_are_regions_and_the_eye_area_follows_them() {
        let a = TreatmentAreas::parse(["cheeks", "forehead", "cheeks", ""]).unwrap();
        assert_eq!(a.as_slice(), [Region::Forehead, Region::Cheeks]);
        assert_eq!(TreatmentAreas::from_stored(&a.to_stored()), Ok(a.clone()));
        assert!(!a.eye_area());
        assert!(TreatmentAreas::parse([" "]).is_err());
        assert_eq!(
            TreatmentAreas::parse(["around the eyes"]).unwrap_err().field,
            "treatment_areas"
        );
        let eyes = TreatmentAreas::parse(["periorbital", "cheeks"]).unwrap();
        assert!(eyes.eye_area());
        assert_eq!(eye_area(None, &eyes), Ok(true));
        assert_eq!(eye_area(Some(true), &eyes), Ok(true));
        assert_eq!(eye_area(Some(false), &eyes).unwrap_err().field, "eye_area");
        assert!(eye_area(Some(true), &a).is_err());
        // Version 1 stored free text.
        let v1 = TreatmentAreas::from_stored("cheeks\naround the eyes\nback of the knee").unwrap();
        assert_eq!(v1.as_slice(), [Region::Periorbital, Region::Cheeks, Region::Other]);
    }

    #[test]
    fn notes_blank_is_none() {
        assert_eq!(Notes::parse("notes", Some("  ")), Ok(None));
        assert_eq!(
            Notes::parse("notes", Some(" keep hydrated\r\n "))
                .unwrap()
                .unwrap()
                .as_str(),
            "keep hydrated"
        );
        assert!(Notes::parse("notes", Some(&"a".repeat(2001))).is_err());
        assert!(Notes::parse("notes", Some("a\u{7}")).is_err());
    }

    #[test]
    fn a_session_date_is_neither_future_nor_before_birth() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let (today, born) = (d(2026, 11, 25), d(1990, 1, 2));
        assert_eq!(performed_on(today, today, born), Ok(today));
        assert_eq!(performed_on(born, today, born), Ok(born));
        assert!(performed_on(d(2026, 11, 26), today, born).is_err());
        assert!(performed_on(d(1990, 1, 1), today, born).is_err());
    }

    #[test]
    fn device_parses() {
        assert_eq!("pen".parse::<Device>(), Ok(Device::Pen));
        assert!("laser".parse::<Device>().is_err());
    }
}
