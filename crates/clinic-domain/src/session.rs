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
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Roller => "roller",
            Device::Pen => "pen",
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

    /// How the patient's timeline names it.
    pub fn label(self) -> &'static str {
        match self {
            Product::LipoPeptideBooster => "a lipo-peptide booster",
            Product::Moisturizer => "a skin moisturizer",
            Product::Sunscreen => "sunscreen",
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

/// The areas treated (e.g. "cheeks", "forehead"): 1 to 12 distinct names of 1 to 60 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TreatmentAreas(Vec<String>);

impl TreatmentAreas {
    const FIELD: &'static str = "treatment_areas";

    pub fn parse<'a>(areas: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut out: Vec<String> = Vec::new();
        for raw in areas {
            let area = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            if area.is_empty() {
                continue;
            }
            if area.chars().count() > 60 || area.chars().any(|c| c.is_control() || matches!(c, '<' | '>' | '\n')) {
                return Err(FieldError::new(
                    Self::FIELD,
                    "each area is at most 60 characters of plain text",
                ));
            }
            if !out.contains(&area) {
                out.push(area);
            }
        }
        if out.is_empty() {
            return Err(FieldError::new(Self::FIELD, "name at least one treated area"));
        }
        if out.len() > 12 {
            return Err(FieldError::new(Self::FIELD, "at most 12 areas"));
        }
        Ok(Self(out))
    }

    /// Newline-separated, as stored (areas never contain a newline).
    pub fn to_stored(&self) -> String {
        self.0.join("\n")
    }

    pub fn from_stored(stored: &str) -> Result<Self, FieldError> {
        Self::parse(stored.split('\n'))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
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
    fn treatment_areas_are_normalised() {
        let a = TreatmentAreas::parse(["  Cheeks ", "forehead", "cheeks", ""]).unwrap();
        assert_eq!(a.as_slice(), ["cheeks", "forehead"]);
        assert_eq!(TreatmentAreas::from_stored(&a.to_stored()), Ok(a));
        assert!(TreatmentAreas::parse([" "]).is_err());
        assert!(TreatmentAreas::parse(["x".repeat(61).as_str()]).is_err());
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
