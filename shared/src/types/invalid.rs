//! What every newtype's `parse` shares: its error, and reading it from JSON.

/// The error of every `parse` constructor: a message for the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub &'static str);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Implements `Deserialize` by reading a string and calling `parse`, so a
/// request DTO holding the newtype is validated as it is parsed.
macro_rules! deserialize_via_parse {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use deserialize_via_parse;
