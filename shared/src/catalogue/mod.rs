//! The catalogue of service items (政务服务事项) and service halls: the data
//! model of seeds 003 (the 18 guide fields) and 004 (承办单位, 业务科室, 预约方式,
//! 取件方式, 补充说明, 情形引导), its import validation and its SQL.

pub mod geo;
pub mod hot;
pub mod import;
pub mod model;
pub mod repo;

/// The category of the 17 water service items of 003 appendix A.
pub const WATER_CATEGORY: &str = "供水服务";

/// The themes of 002 table 1, plus the water category of 003. An item's
/// category must be one of these.
pub const CATEGORIES: [&str; 27] = [
    "公积金",
    "社保",
    "护照通行证",
    "行驶驾驶",
    "税务",
    "户政（治安）",
    "生活缴费",
    "交通出行",
    "不动产登记",
    "公共服务",
    "人才与就业",
    "法律服务",
    "调解仲裁",
    "社会救助",
    "信用信息",
    "婚姻",
    "新生儿",
    "中介超市",
    "助残",
    "境外人士",
    "少数民族旅游服务",
    "智慧出行服务",
    "公安服务",
    "人社服务",
    "流动人口",
    "粤港澳大湾区服务",
    WATER_CATEGORY,
];
