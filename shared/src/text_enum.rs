//! States as Rust enums over the text SQL stores. Each variant's text is
//! written once, in the macro call: `as_str` (what SQL stores, CHECK-
//! constrained, and JSON shows), `parse` (the one way back from stored
//! text), `Serialize`/`Deserialize` (the same text) and `Display`.
//!
//! ```
//! shared::text_enum! {
//!     /// Where an order stands.
//!     pub enum OrderStatus { Pending => "pending", Paid => "paid", }
//! }
//! assert_eq!(OrderStatus::parse("paid"), Some(OrderStatus::Paid));
//! assert_eq!(serde_json::to_string(&OrderStatus::Pending).unwrap(), "\"pending\"");
//! ```

/// `text_enum! { /// docs  pub enum Name { Variant => "text", ... } }`
#[macro_export]
macro_rules! text_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vm])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored (and serialized) text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The variant whose stored text is `raw`.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::text_enum_serde::Serialize for $name {
            fn serialize<S: $crate::text_enum_serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::text_enum_serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::text_enum_serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <String as $crate::text_enum_serde::Deserialize>::deserialize(d)?;
                Self::parse(&raw).ok_or_else(|| {
                    <D::Error as $crate::text_enum_serde::de::Error>::custom(format!("unknown {} {raw:?}", stringify!($name)))
                })
            }
        }
    };
}
