//! The catalogue of service items (政务服务事项) and service halls: the data
//! model of seeds 003 (the 18 guide fields) and 004 (承办单位, 业务科室, 预约方式,
//! 取件方式, 补充说明, 情形引导), its import validation and its SQL.

pub mod geo;
pub mod hot;
pub mod import;
pub mod listing;
pub mod model;
pub mod repo;
pub mod review;
pub mod search_id;
pub mod sync;
pub mod taxonomy;

/// The category of the 17 water service items of 003 appendix A.
pub const WATER_CATEGORY: &str = "供水服务";
