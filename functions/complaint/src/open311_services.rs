//! The services offered through Open311 GeoReport v2 (`services.json`,
//! `services/{code}.json`): each files a complaint of its kind with the
//! service name as category.

use crate::kind::Kind;
use serde::Serialize;

/// One service (type of request).
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub code: &'static str,
    pub name: &'static str,
    pub group: &'static str,
    /// The complaint kind it files.
    pub kind: Kind,
    pub description: &'static str,
    pub keywords: &'static str,
}

/// The services offered through Open311 (each files a complaint of its kind
/// with the service name as category).
pub const SERVICES: &[Service] = &[
    Service {
        code: "water-supply",
        name: "供水问题",
        group: "公用事业",
        kind: Kind::Complaint,
        description: "停水、水压低、水质异常、管道漏水",
        keywords: "停水,水压,水质,漏水",
    },
    Service {
        code: "gas-supply",
        name: "燃气问题",
        group: "公用事业",
        kind: Kind::Complaint,
        description: "停气、燃气异味、燃气设施损坏",
        keywords: "停气,燃气,异味",
    },
    Service {
        code: "road",
        name: "道路设施",
        group: "市政设施",
        kind: Kind::Complaint,
        description: "路面破损、井盖缺失、路灯不亮",
        keywords: "路面,井盖,路灯",
    },
    Service {
        code: "sanitation",
        name: "环境卫生",
        group: "市容环境",
        kind: Kind::Complaint,
        description: "垃圾未清运、公厕脏乱、乱堆乱放",
        keywords: "垃圾,公厕,卫生",
    },
    Service {
        code: "noise",
        name: "噪声扰民",
        group: "市容环境",
        kind: Kind::Complaint,
        description: "施工、商铺、娱乐场所噪声",
        keywords: "噪声,施工,扰民",
    },
    Service {
        code: "service-hall",
        name: "政务服务",
        group: "政务服务",
        kind: Kind::Complaint,
        description: "窗口服务态度、办事效率、预约与排队",
        keywords: "窗口,办事,排队",
    },
    Service {
        code: "suggestion",
        name: "意见建议",
        group: "意见建议",
        kind: Kind::Suggestion,
        description: "对城市管理和公共服务的意见建议",
        keywords: "建议,意见",
    },
    Service {
        code: "consultation",
        name: "政策咨询",
        group: "咨询",
        kind: Kind::Consultation,
        description: "政策、办事流程咨询",
        keywords: "咨询,政策",
    },
];

/// `services.json` entries.
#[derive(Debug, Serialize)]
pub struct ServiceJson {
    pub service_code: &'static str,
    pub service_name: &'static str,
    pub description: &'static str,
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: &'static str,
    pub group: &'static str,
}

/// The service list.
pub fn services() -> Vec<ServiceJson> {
    SERVICES
        .iter()
        .map(|s| ServiceJson {
            service_code: s.code,
            service_name: s.name,
            description: s.description,
            metadata: false,
            kind: "realtime",
            keywords: s.keywords,
            group: s.group,
        })
        .collect()
}

/// One service by code.
pub fn service(code: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.code == code)
}
