//! Supply areas (区-街道-社区-楼栋) and the account-to-area map from billing
//! data, loaded in bulk by administrators; and resolving the areas an outage
//! names (by code, full name or unique name).

use crate::rules::Utility;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::store::{Db, Stmt, Value};
use std::collections::{HashMap, HashSet};

/// Most areas in one load.
pub const MAX_AREAS: usize = 2000;
/// Most accounts in one load.
pub const MAX_ACCOUNTS: usize = 5000;
/// Bound parameters per statement (D1 allows 100).
const MAX_PARAMS: usize = 99;

/// Most problems one refused load lists.
const MAX_ERRORS: usize = 50;

shared::text_enum! {
    /// `supply_areas.level`, from the top: 区-街道-社区-楼栋.
    #[derive(PartialOrd, Ord)]
    pub enum AreaLevel {
        District => "district",
        Street => "street",
        Community => "community",
        Building => "building",
    }
}

impl AreaLevel {
    /// The level an area of this level hangs under (none for a district).
    pub fn parent(self) -> Option<Self> {
        match self {
            Self::District => None,
            Self::Street => Some(Self::District),
            Self::Community => Some(Self::Street),
            Self::Building => Some(Self::Community),
        }
    }
}

/// One area of a load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaInput {
    pub code: String,
    pub name: String,
    /// district, street, community or building.
    pub level: String,
    /// The parent's code (none for a district).
    #[serde(default)]
    pub parent: Option<String>,
}

/// `PUT /v1/admin/supply-areas`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreasBody {
    pub areas: Vec<AreaInput>,
}

/// One account of a load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountInput {
    pub utility: String,
    pub account_no: String,
    /// The area's code.
    pub area: String,
}

/// `PUT /v1/admin/supply-accounts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsBody {
    pub accounts: Vec<AccountInput>,
}

/// What a load did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Loaded {
    pub loaded: usize,
}

fn code_ok(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An area as stored: where it hangs and what it is called.
#[derive(Debug, Clone, Deserialize)]
struct Placed {
    code: String,
    level: AreaLevel,
    path: String,
    full_name: String,
}

async fn stored(db: &impl Db, codes: &[&str]) -> ApiResult<HashMap<String, Placed>> {
    let list = serde_json::to_string(codes).unwrap_or_else(|_| "[]".into());
    let rows: Vec<Placed> = db
        .query_as(
            "SELECT code, level, path, full_name FROM supply_areas WHERE code IN (SELECT value FROM json_each(?1))",
            &[list.into()],
        )
        .await?;
    Ok(rows.into_iter().map(|p| (p.code.clone(), p)).collect())
}

/// An area's shape: its code, name, level, and a parent exactly when it is
/// not a district. Returns its level when that is known.
fn check_area(i: usize, a: &AreaInput, errs: &mut Vec<FieldError>) -> Option<AreaLevel> {
    let f = |name: &str| format!("areas[{i}].{name}");
    if !code_ok(&a.code) {
        errs.push(FieldError::new(f("code"), "区域编码应为1-32位字母、数字、- 或 _"));
    }
    if !(1..=30).contains(&a.name.trim().chars().count()) {
        errs.push(FieldError::new(f("name"), "区域名称应为1-30个字"));
    }
    let level = AreaLevel::parse(&a.level);
    match (level, &a.parent) {
        (None, _) => errs.push(FieldError::new(f("level"), "level 应为 district、street、community 或 building")),
        (Some(AreaLevel::District), Some(_)) => errs.push(FieldError::new(f("parent"), "区（县、市）没有上级区域")),
        (Some(l), None) if l != AreaLevel::District => errs.push(FieldError::new(f("parent"), "请填写上级区域编码")),
        _ => {}
    }
    level
}

/// The shapes of a load's areas, no code twice: their levels in order, or
/// every problem.
fn check_areas(areas: &[AreaInput]) -> Result<Vec<AreaLevel>, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut levels = Vec::with_capacity(areas.len());
    let mut seen = HashSet::new();
    for (i, a) in areas.iter().enumerate() {
        levels.extend(check_area(i, a, &mut errs));
        if !seen.insert(a.code.as_str()) {
            errs.push(FieldError::new(format!("areas[{i}].code"), format!("区域编码 {} 在本次导入中重复", a.code)));
        }
    }
    if errs.is_empty() { Ok(levels) } else { Err(errs) }
}

/// A load refused for these problems (the first [`MAX_ERRORS`]).
fn refused(mut errs: Vec<FieldError>) -> ApiError {
    errs.truncate(MAX_ERRORS);
    ApiError::validation(errs)
}

/// Where an area hangs: its path of codes, full name and level.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spot {
    path: String,
    full_name: String,
    level: AreaLevel,
}

/// An area of a load, placed under its parent.
#[derive(Debug, Clone)]
struct NewArea<'a> {
    input: &'a AreaInput,
    name: &'a str,
    spot: Spot,
}

/// Places one area under its parent (placed earlier in this load, or
/// stored): the parent must exist one level up, and a stored area must stay
/// where and what it is.
fn place_one<'a>(
    a: &'a AreaInput,
    level: AreaLevel,
    placed: &HashMap<&str, Spot>,
    stored: &HashMap<String, Placed>,
) -> Result<NewArea<'a>, String> {
    let name = a.name.trim();
    let parent = match a.parent.as_deref() {
        None => None,
        Some(p) => match placed.get(p).cloned().or_else(|| {
            stored.get(p).map(|s| Spot { path: s.path.clone(), full_name: s.full_name.clone(), level: s.level })
        }) {
            Some(found) => Some(found),
            None => return Err(format!("上级区域 {p} 不存在")),
        },
    };
    if let Some(p) = &parent
        && level.parent() != Some(p.level)
    {
        return Err("上级区域的层级应正好高一级".into());
    }
    let (path, full_name) = match parent {
        None => (format!("/{}/", a.code), name.to_owned()),
        Some(p) => {
            let full = if p.level == AreaLevel::District { name.to_owned() } else { format!("{}{name}", p.full_name) };
            (format!("{}{}/", p.path, a.code), full)
        }
    };
    if let Some(old) = stored.get(a.code.as_str())
        && (old.path != path || old.level != level)
    {
        return Err(format!("区域 {} 已在其他上级之下或层级不同，不能移动或改变层级", a.code));
    }
    Ok(NewArea { input: a, name, spot: Spot { path, full_name, level } })
}

/// Places a load's areas, parents first, or lists every area that cannot go
/// where it says (under `areas[i].parent`).
fn place<'a>(
    areas: &'a [AreaInput],
    levels: &[AreaLevel],
    stored: &HashMap<String, Placed>,
) -> Result<Vec<NewArea<'a>>, Vec<FieldError>> {
    let mut order: Vec<(usize, (&AreaInput, AreaLevel))> =
        areas.iter().zip(levels.iter().copied()).enumerate().collect();
    order.sort_by_key(|(_, (_, level))| *level);
    let mut placed: HashMap<&str, Spot> = HashMap::new();
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, (a, level)) in order {
        match place_one(a, level, &placed, stored) {
            Ok(n) => {
                placed.insert(a.code.as_str(), n.spot.clone());
                out.push(n);
            }
            Err(m) => errs.push(FieldError::new(format!("areas[{i}].parent"), m)),
        }
    }
    if errs.is_empty() { Ok(out) } else { Err(errs) }
}

/// Adds or updates areas (parents first, in the same load or already
/// stored). An area cannot move to another parent: its subtree's paths and
/// every subscription under it would silently change.
pub async fn load_areas(db: &impl Db, act: &Act<'_>, body: &AreasBody) -> ApiResult<Loaded> {
    act.who.require(Role::OutagePublisher)?;
    if body.areas.is_empty() || body.areas.len() > MAX_AREAS {
        return Err(ApiError::bad_field("areas", format!("每次导入1-{MAX_AREAS}个区域")));
    }
    let levels = check_areas(&body.areas).map_err(refused)?;
    let mut wanted: Vec<&str> = body.areas.iter().map(|a| a.code.as_str()).collect();
    wanted.extend(body.areas.iter().filter_map(|a| a.parent.as_deref()));
    let existing = stored(db, &wanted).await?;
    let placed = place(&body.areas, &levels, &existing).map_err(refused)?;
    let now = act.now.to_rfc3339();
    let rows = placed
        .iter()
        .map(|n| {
            vec![
                n.input.code.as_str().into(),
                n.name.into(),
                n.spot.level.as_str().into(),
                n.input.parent.clone().into(),
                n.spot.path.as_str().into(),
                n.spot.full_name.as_str().into(),
                now.as_str().into(),
            ]
        })
        .collect();
    let mut stmts = upserts(
        "INSERT INTO supply_areas (code, name, level, parent_code, path, full_name, updated_at) VALUES ",
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
           parent_code = excluded.parent_code, full_name = excluded.full_name, updated_at = excluded.updated_at",
        rows,
    );
    let loaded = body.areas.len();
    let detail = serde_json::json!({ "areas": loaded });
    stmts.push(audit_stmt(act.who, "outage.areas.load", "supply_areas", act.request_id, act.now, &detail));
    db.batch(&stmts).await?;
    Ok(Loaded { loaded })
}

/// Multi-row inserts of at most [`MAX_PARAMS`] parameters each.
fn upserts(head: &str, tail: &str, rows: Vec<Vec<Value>>) -> Vec<Stmt> {
    let width = rows.first().map_or(1, Vec::len).max(1);
    let per = (MAX_PARAMS / width).max(1);
    let mut out = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per).collect();
        let groups: Vec<String> = (0..chunk.len())
            .map(|r| {
                let marks: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        out.push(Stmt::new(format!("{head}{}{tail}", groups.join(", ")), chunk.into_iter().flatten().collect()));
    }
    out
}

/// Adds or moves accounts to areas (billing data: an account that moves
/// supply area follows it; its subscribers follow with it).
pub async fn load_accounts(db: &impl Db, act: &Act<'_>, body: &AccountsBody) -> ApiResult<Loaded> {
    act.who.require_any(&[Role::OutagePublisher, Role::BillingOperator])?;
    if body.accounts.is_empty() || body.accounts.len() > MAX_ACCOUNTS {
        return Err(ApiError::bad_field("accounts", format!("每次导入1-{MAX_ACCOUNTS}个户号")));
    }
    let mut codes: Vec<&str> = body.accounts.iter().map(|a| a.area.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let known = stored(db, &codes).await?;
    let mut errs = Vec::new();
    let now = act.now.to_rfc3339();
    let mut rows = Vec::with_capacity(body.accounts.len());
    let mut seen = HashSet::new();
    for (i, a) in body.accounts.iter().enumerate() {
        if !seen.insert((a.utility.as_str(), a.account_no.as_str())) {
            errs.push(FieldError::new(format!("accounts[{i}].account_no"), "户号在本次导入中重复"));
        }
        if Utility::parse(&a.utility).is_none() {
            errs.push(FieldError::new(format!("accounts[{i}].utility"), "utility 应为 water 或 gas"));
        }
        if !code_ok(&a.account_no) {
            errs.push(FieldError::new(format!("accounts[{i}].account_no"), "户号应为1-32位字母、数字、- 或 _"));
        }
        if !known.contains_key(&a.area) {
            errs.push(FieldError::new(format!("accounts[{i}].area"), format!("区域 {} 不存在，请先导入区域", a.area)));
        }
        rows.push(vec![
            a.utility.as_str().into(),
            a.account_no.as_str().into(),
            a.area.as_str().into(),
            now.as_str().into(),
        ]);
    }
    if !errs.is_empty() {
        return Err(refused(errs));
    }
    let mut stmts = upserts(
        "INSERT INTO supply_accounts (utility, account_no, area_code, updated_at) VALUES ",
        " ON CONFLICT (utility, account_no) DO UPDATE SET area_code = excluded.area_code, updated_at = excluded.updated_at",
        rows,
    );
    let loaded = body.accounts.len();
    let detail = serde_json::json!({ "accounts": loaded });
    stmts.push(audit_stmt(act.who, "outage.accounts.load", "supply_accounts", act.request_id, act.now, &detail));
    db.batch(&stmts).await?;
    Ok(Loaded { loaded })
}

/// An area an outage or subscription names, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub code: String,
    /// What the message says: the name as written when it matched by name,
    /// else the area's full name.
    pub label: String,
}

#[derive(Deserialize)]
struct Named {
    code: String,
    name: String,
    full_name: String,
}

/// Resolves each name by code, then full name, then a unique short name;
/// unknown and ambiguous names are field errors under `field[i]`.
pub async fn resolve(db: &impl Db, field: &str, names: &[String]) -> ApiResult<Result<Vec<Resolved>, Vec<FieldError>>> {
    let list =
        serde_json::to_string(&names.iter().map(|n| n.trim()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
    let rows: Vec<Named> = db
        .query_as(
            "SELECT code, name, full_name FROM supply_areas
             WHERE code IN (SELECT value FROM json_each(?1)) OR full_name IN (SELECT value FROM json_each(?1))
                OR name IN (SELECT value FROM json_each(?1))",
            &[list.into()],
        )
        .await?;
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, raw) in names.iter().enumerate() {
        let n = raw.trim();
        let by_code = rows.iter().find(|r| r.code == n);
        let by_full: Vec<&Named> = rows.iter().filter(|r| r.full_name == n).collect();
        let by_name: Vec<&Named> = rows.iter().filter(|r| r.name == n).collect();
        let hit = match (by_code, by_full.as_slice(), by_name.as_slice()) {
            (Some(r), _, _) => Ok(Resolved { code: r.code.clone(), label: r.full_name.clone() }),
            (None, [r], _) | (None, [], [r]) => Ok(Resolved { code: r.code.clone(), label: n.to_owned() }),
            (None, [], []) => Err(format!("未知区域「{n}」：请先导入区域层级，或使用区域编码")),
            _ => Err(format!("区域名称「{n}」不唯一，请使用区域编码")),
        };
        match hit {
            Ok(r) => out.push(r),
            Err(m) => errs.push(FieldError::new(format!("{field}[{i}]"), m)),
        }
    }
    Ok(if errs.is_empty() { Ok(out) } else { Err(errs) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn inputs(v: serde_json::Value) -> Vec<AreaInput> {
        serde_json::from_value(v).unwrap()
    }

    fn stored_area(code: &str, level: AreaLevel, path: &str, full_name: &str) -> (String, Placed) {
        let p = Placed { code: code.into(), level, path: path.into(), full_name: full_name.into() };
        (code.to_owned(), p)
    }

    #[test]
    fn every_level_parses_from_its_stored_name_and_hangs_one_level_down() {
        for &l in AreaLevel::ALL {
            assert_eq!(AreaLevel::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
        assert_eq!(AreaLevel::Building.parent(), Some(AreaLevel::Community));
        assert_eq!(AreaLevel::District.parent(), None);
        assert_eq!(AreaLevel::parse("village"), None);
    }

    #[test]
    fn a_load_lists_bad_shapes_missing_parents_and_duplicate_codes() {
        let areas = inputs(serde_json::json!([
            {"code": "yw", "name": "义乌市", "level": "district", "parent": "zj"},
            {"code": "cc", "name": "稠城街道", "level": "street"},
            {"code": "cc", "name": "", "level": "village"}
        ]));
        let fields: Vec<String> = check_areas(&areas).unwrap_err().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["areas[0].parent", "areas[1].parent", "areas[2].name", "areas[2].level", "areas[2].code"]);
        let fine =
            inputs(serde_json::json!([{"code": "bw", "name": "宾王小区", "level": "community", "parent": "cc"}]));
        assert_eq!(check_areas(&fine).unwrap(), [AreaLevel::Community]);
    }

    #[test]
    fn areas_are_placed_parents_first_and_named_below_the_district() {
        let areas = inputs(serde_json::json!([
            {"code": "bw-1", "name": "1幢", "level": "building", "parent": "bw"},
            {"code": "bw", "name": " 宾王小区 ", "level": "community", "parent": "cc"}
        ]));
        let levels = check_areas(&areas).unwrap();
        let stored: HashMap<String, Placed> = [
            stored_area("yw", AreaLevel::District, "/yw/", "义乌市"),
            stored_area("cc", AreaLevel::Street, "/yw/cc/", "稠城街道"),
        ]
        .into_iter()
        .collect();
        let placed = place(&areas, &levels, &stored).unwrap();
        let got: Vec<(&str, &str, &str)> =
            placed.iter().map(|n| (n.input.code.as_str(), n.spot.path.as_str(), n.spot.full_name.as_str())).collect();
        assert_eq!(got, [("bw", "/yw/cc/bw/", "稠城街道宾王小区"), ("bw-1", "/yw/cc/bw/bw-1/", "稠城街道宾王小区1幢")]);
        let street = inputs(serde_json::json!([{"code": "bm", "name": "北门街道", "level": "street", "parent": "yw"}]));
        let placed = place(&street, &check_areas(&street).unwrap(), &stored).unwrap();
        assert_eq!(placed.first().map(|n| n.spot.full_name.as_str()), Some("北门街道"), "the district is not named");
    }

    #[test]
    fn an_area_cannot_move_change_level_skip_a_level_or_hang_under_nothing() {
        let stored: HashMap<String, Placed> = [
            stored_area("yw", AreaLevel::District, "/yw/", "义乌市"),
            stored_area("cc", AreaLevel::Street, "/yw/cc/", "稠城街道"),
            stored_area("bw", AreaLevel::Community, "/yw/cc/bw/", "稠城街道宾王小区"),
        ]
        .into_iter()
        .collect();
        let areas = inputs(serde_json::json!([
            {"code": "bw", "name": "宾王小区", "level": "street", "parent": "yw"},
            {"code": "n2", "name": "孤楼", "level": "building", "parent": "nowhere"},
            {"code": "n3", "name": "跳级", "level": "building", "parent": "cc"}
        ]));
        let errs = place(&areas, &check_areas(&areas).unwrap(), &stored).unwrap_err();
        let got: Vec<(String, String)> = errs.into_iter().map(|f| (f.field, f.message)).collect();
        assert_eq!(
            got,
            [
                ("areas[0].parent".into(), "区域 bw 已在其他上级之下或层级不同，不能移动或改变层级".into()),
                ("areas[1].parent".into(), "上级区域 nowhere 不存在".into()),
                ("areas[2].parent".into(), "上级区域的层级应正好高一级".into()),
            ]
        );
    }
}
