//! Field weights: a match in the name counts most, then keywords (tags),
//! then the category and department, then materials, then the guide's
//! prose (scope, conditions, steps, Q&A).

pub const W_NAME: u32 = 10;
pub const W_TAG: u32 = 6;
pub const W_META: u32 = 3;
/// 申请材料 names: below the category, above the guide's prose (a citizen
/// asking what to bring names a material; see [`crate::fulltext`]).
pub const W_MATERIAL: u32 = 2;
pub const W_TEXT: u32 = 1;
