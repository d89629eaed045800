//! Import DTOs of the catalogue, validated with `validator` derive (the user's
//! choice; its cost is measured in the README). Cross-field and cross-row rules
//! (codes, references, the situation tree) live in [`super::import`].

use crate::limits::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// One service hall (办事大厅 / 营业网点).
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct HallInput {
    #[validate(length(min = 1, max = 32, message = "大厅编号应为1-32位"))]
    pub id: String,
    #[validate(length(min = 1, max = MAX_NAME_CHARS, message = "大厅名称不能为空且不超过200字"))]
    pub name: String,
    #[validate(length(min = 1, max = 50, message = "所在区县不能为空"))]
    pub district: String,
    #[validate(length(min = 1, max = 200, message = "地址不能为空"))]
    pub address: String,
    #[validate(length(min = 1, max = 500, message = "办公时间不能为空"))]
    pub hours: String,
    #[validate(length(min = 5, max = 30, message = "联系电话格式不正确"))]
    pub phone: String,
    #[validate(range(min = -90.0, max = 90.0, message = "纬度应在 -90 到 90 之间"))]
    pub lat: f64,
    #[validate(range(min = -180.0, max = 180.0, message = "经度应在 -180 到 180 之间"))]
    pub lng: f64,
    /// Free-form extras (transport, parking, windows) shown on 大厅详情.
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Whether the item can be done online, and where (线上办事跳转).
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct OnlineInput {
    pub available: bool,
    #[validate(url(message = "线上办理链接不是有效的网址"))]
    pub url: Option<String>,
}

/// One entry of 申请材料目录.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct MaterialInput {
    #[validate(length(min = 1, max = MAX_NAME_CHARS, message = "材料名称不能为空且不超过200字"))]
    pub name: String,
    /// original, copy, original_and_copy or electronic.
    pub form: MaterialForm,
    #[validate(range(min = 0, max = 20, message = "份数应在 0 到 20 之间"))]
    pub copies: u32,
    pub required: bool,
    #[serde(default)]
    #[validate(length(max = 1000, message = "材料说明不超过1000字"))]
    pub note: String,
    #[validate(url(message = "示范文本链接不是有效的网址"))]
    pub sample_url: Option<String>,
    #[validate(url(message = "空白表格链接不是有效的网址"))]
    pub blank_url: Option<String>,
}

/// 原件 / 复印件 / 原件和复印件 / 电子材料.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    Original,
    Copy,
    OriginalAndCopy,
    Electronic,
}

impl MaterialForm {
    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::Copy => "copy",
            Self::OriginalAndCopy => "original_and_copy",
            Self::Electronic => "electronic",
        }
    }

    /// How the guide shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Original => "原件",
            Self::Copy => "复印件",
            Self::OriginalAndCopy => "原件和复印件",
            Self::Electronic => "电子材料",
        }
    }
}

/// One step of 办理基本流程.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    #[validate(length(min = 1, max = 50, message = "环节名称不能为空"))]
    pub name: String,
    #[validate(length(min = 1, max = 2000, message = "环节说明不能为空"))]
    pub description: String,
    #[validate(length(max = 50, message = "环节时限不超过50字"))]
    pub duration: Option<String>,
}

/// 办结时限: the legal limit and the (shorter or equal) promised one, in working days.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct TimeLimitInput {
    #[validate(range(min = 0, max = 365, message = "法定时限应在 0 到 365 个工作日之间"))]
    pub legal_days: u32,
    #[validate(range(min = 0, max = 365, message = "承诺时限应在 0 到 365 个工作日之间"))]
    pub promised_days: u32,
    /// e.g. 即办 when 0 days.
    #[serde(default)]
    #[validate(length(max = 200, message = "时限说明不超过200字"))]
    pub note: String,
}

/// One charge of 收费依据及标准.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct FeeItemInput {
    #[validate(length(min = 1, max = 100, message = "收费项目名称不能为空"))]
    pub name: String,
    #[validate(length(min = 1, max = 500, message = "收费标准不能为空"))]
    pub standard: String,
    #[validate(length(min = 1, max = 500, message = "收费依据不能为空"))]
    pub basis: String,
}

/// 收费依据及标准: free must be stated explicitly.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct FeesInput {
    pub free: bool,
    #[serde(default)]
    #[validate(nested)]
    pub items: Vec<FeeItemInput>,
}

/// 监督投诉渠道.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct SupervisionInput {
    #[validate(length(min = 5, max = 30, message = "监督电话格式不正确"))]
    pub phone: String,
    #[validate(length(min = 1, max = 10, message = "至少填写一个监督投诉渠道"))]
    pub channels: Vec<String>,
}

/// One question and answer of 常见问题解答.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    #[validate(length(min = 1, max = 500, message = "问题不能为空"))]
    pub q: String,
    #[validate(length(min = 1, max = 5000, message = "回答不能为空"))]
    pub a: String,
}

/// One answer of a situation question: it leads to another question, or ends
/// at an item (and optionally the subset of materials that situation needs).
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct SituationOptionInput {
    #[validate(length(min = 1, max = 100, message = "选项文字不能为空"))]
    pub label: String,
    pub next: Option<String>,
    pub item_code: Option<String>,
    #[serde(default)]
    pub materials: Vec<String>,
}

/// One question of 情形引导.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct SituationQuestionInput {
    #[validate(length(min = 1, max = 32, message = "问题编号不能为空"))]
    pub id: String,
    #[validate(length(min = 1, max = 200, message = "问题不能为空"))]
    pub text: String,
    #[validate(length(min = 2, max = 10, message = "每个问题应有 2 到 10 个选项"), nested)]
    pub options: Vec<SituationOptionInput>,
}

/// The prose of a guide (办事指南): every field of 003 and 004 not held in
/// its own table.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct GuideInput {
    /// 适用范围
    #[validate(length(min = 1, max = MAX_TEXT_CHARS, message = "适用范围不能为空"))]
    pub scope: String,
    /// 办理依据
    #[validate(length(min = 1, max = 30, message = "至少填写一条办理依据"))]
    pub legal_basis: Vec<String>,
    /// 受理部门
    #[validate(length(min = 1, max = 100, message = "受理部门不能为空"))]
    pub accepting_department: String,
    /// 决定部门
    #[validate(length(min = 1, max = 100, message = "决定部门不能为空"))]
    pub deciding_department: String,
    /// 承办单位 (004)
    #[validate(length(min = 1, max = 100, message = "承办单位不能为空"))]
    pub handling_unit: String,
    /// 业务科室 (004)
    #[validate(length(min = 1, max = 100, message = "业务科室不能为空"))]
    pub business_office: String,
    /// 申请条件
    #[validate(length(min = 1, max = 30, message = "至少填写一条申请条件"))]
    pub conditions: Vec<String>,
    /// 禁止性要求
    #[validate(length(min = 1, max = 30, message = "至少填写一条禁止性要求"))]
    pub prohibitions: Vec<String>,
    /// 办理基本流程
    #[validate(length(min = 1, max = 20, message = "办理流程应有 1 到 20 个环节"), nested)]
    pub process: Vec<StepInput>,
    /// 办结时限
    #[validate(nested)]
    pub time_limit: TimeLimitInput,
    /// 收费依据及标准
    #[validate(nested)]
    pub fees: FeesInput,
    /// 结果送达方式
    #[validate(length(min = 1, max = 10, message = "至少填写一种结果送达方式"))]
    pub delivery: Vec<String>,
    /// 取件方式 (004)
    #[validate(length(min = 1, max = 10, message = "至少填写一种取件方式"))]
    pub pickup_methods: Vec<String>,
    /// 预约方式 (004)
    #[serde(default)]
    #[validate(length(max = 10, message = "预约方式不超过10种"))]
    pub appointment_methods: Vec<String>,
    /// 监督投诉渠道
    #[validate(nested)]
    pub supervision: SupervisionInput,
    /// 常见错误示例
    #[validate(length(min = 1, max = 30, message = "至少填写一条常见错误示例"))]
    pub common_errors: Vec<String>,
    /// 常见问题解答
    #[validate(length(min = 1, max = 50, message = "至少填写一条常见问题解答"), nested)]
    pub faq: Vec<FaqInput>,
    /// 补充说明 (004)
    #[serde(default)]
    #[validate(length(max = MAX_TEXT_CHARS, message = "补充说明过长"))]
    pub supplementary: String,
    /// 其他
    #[serde(default)]
    #[validate(length(max = MAX_TEXT_CHARS, message = "其他说明过长"))]
    pub other: String,
    /// 情形引导: the first question is the start.
    #[serde(default)]
    #[validate(length(max = 30, message = "情形引导问题不超过30个"), nested)]
    pub situations: Vec<SituationQuestionInput>,
}

/// One service item with its guide, materials, halls and relations.
#[derive(Debug, Clone, Deserialize, Serialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    pub code: String,
    pub basic_code: String,
    #[validate(length(min = 1, max = MAX_NAME_CHARS, message = "事项名称不能为空且不超过200字"))]
    pub name: String,
    pub category: String,
    #[serde(default)]
    #[validate(length(max = 20, message = "标签不超过20个"))]
    pub tags: Vec<String>,
    #[validate(length(min = 1, max = 100, message = "部门不能为空"))]
    pub department: String,
    #[validate(length(min = 1, max = 3, message = "服务对象至少一项"))]
    pub service_object: Vec<String>,
    #[validate(nested)]
    pub online: OnlineInput,
    pub appointment: bool,
    #[validate(length(min = 1, max = 200, message = "申请材料至少一项"), nested)]
    pub materials: Vec<MaterialInput>,
    #[validate(length(max = 100, message = "办理大厅不超过100个"))]
    pub halls: Vec<String>,
    #[serde(default)]
    #[validate(length(max = 30, message = "关联事项不超过30个"))]
    pub related: Vec<String>,
    #[validate(nested)]
    pub guide: GuideInput,
}

/// Service objects an item may name.
pub const SERVICE_OBJECTS: [&str; 3] = ["自然人", "法人", "其他组织"];
