//! The 受理通知书 (acceptance notice, 001 网上申报): a printable page with
//! the number, the item, the date accepted, the promised date, and what is
//! still to be supplied under 容缺受理. Every text is escaped.

use crate::record::Application;
use crate::status::Status;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The page, or `None` while the application has not been accepted.
pub fn render(a: &Application) -> Option<String> {
    if !matches!(a.status, Status::Accepted | Status::AcceptedPending | Status::Completed) {
        return None;
    }
    let accepted = a.accepted_on.as_deref()?;
    let deadline = a.deadline.as_deref().unwrap_or("");
    let pending: Vec<String> = a
        .materials
        .iter()
        .filter(|m| m.correction.as_deref().is_some_and(|c| c.starts_with("容缺")))
        .map(|m| format!("<li>{}（{}）</li>", esc(&m.name), esc(m.correction.as_deref().unwrap_or(""))))
        .collect();
    let materials: Vec<String> =
        a.materials.iter().filter(|m| m.upload_id.is_some()).map(|m| format!("<li>{}</li>", esc(&m.name))).collect();
    let pending_html = if pending.is_empty() {
        String::new()
    } else {
        format!("<h2>容缺受理：待补交材料</h2><ul>{}</ul>", pending.join(""))
    };
    Some(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>受理通知书 {number}</title>\
<style>body{{font-family:'Noto Serif CJK SC','SimSun',serif;max-width:42em;margin:2em auto;line-height:1.8}}\
h1{{text-align:center;letter-spacing:.3em}}table{{border-collapse:collapse;width:100%}}td{{border:1px solid #333;padding:.3em .6em}}\
</style></head><body>\
<h1>受理通知书</h1><p>办件编号：{number}</p>\
<p>您于网上提交的“{item}”申请，经预审材料齐全、符合法定形式，本机关决定予以受理。</p>\
<table><tr><td>受理部门</td><td>{department}</td></tr><tr><td>受理日期</td><td>{accepted}</td></tr>\
<tr><td>承诺办结时限</td><td>{days}个工作日（{deadline}前办结）</td></tr></table>\
<h2>已收材料</h2><ul>{materials}</ul>{pending_html}\
<p>办理进度可凭办件编号在小程序“我的办件”中查询。</p><p style=\"text-align:right\">{department}<br>{accepted}</p>\
</body></html>",
        number = esc(&a.number),
        item = esc(&a.item_name),
        department = esc(&a.department),
        days = a.promised_days,
        materials = materials.join(""),
    ))
}
