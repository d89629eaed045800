//! Supply areas (区-街道-社区-楼栋) and the account-to-area map from billing
//! data, loaded in bulk by administrators; and resolving the areas an outage
//! names (by code, full name or unique name).

use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::store::{Db, Stmt, Value};
use std::collections::HashMap;

/// Most areas in one load.
pub const MAX_AREAS: usize = 2000;
/// Most accounts in one load.
pub const MAX_ACCOUNTS: usize = 5000;
/// Bound parameters per statement (D1 allows 100).
const MAX_PARAMS: usize = 99;

const LEVELS: [&str; 4] = ["district", "street", "community", "building"];

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

fn depth(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

fn code_ok(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An area as stored: where it hangs and what it is called.
#[derive(Debug, Clone, Deserialize)]
struct Placed {
    code: String,
    level: String,
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

fn check_area(i: usize, a: &AreaInput, errs: &mut Vec<FieldError>) {
    let f = |name: &str| format!("areas[{i}].{name}");
    if !code_ok(&a.code) {
        errs.push(FieldError::new(f("code"), "区域编码应为1-32位字母、数字、- 或 _"));
    }
    if !(1..=30).contains(&a.name.trim().chars().count()) {
        errs.push(FieldError::new(f("name"), "区域名称应为1-30个字"));
    }
    match (depth(&a.level), &a.parent) {
        (None, _) => errs.push(FieldError::new(f("level"), "level 应为 district、street、community 或 building")),
        (Some(0), Some(_)) => errs.push(FieldError::new(f("parent"), "区（县、市）没有上级区域")),
        (Some(d), None) if d > 0 => errs.push(FieldError::new(f("parent"), "请填写上级区域编码")),
        _ => {}
    }
}

/// Adds or updates areas (parents first, in the same load or already
/// stored). An area cannot move to another parent: its subtree's paths and
/// every subscription under it would silently change.
pub async fn load_areas(db: &impl Db, act: &Act<'_>, body: &AreasBody) -> ApiResult<Loaded> {
    act.who.require(Role::OutagePublisher)?;
    if body.areas.is_empty() || body.areas.len() > MAX_AREAS {
        return Err(ApiError::bad_field("areas", format!("每次导入1-{MAX_AREAS}个区域")));
    }
    let mut errs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, a) in body.areas.iter().enumerate() {
        check_area(i, a, &mut errs);
        if !seen.insert(a.code.as_str()) {
            errs.push(FieldError::new(format!("areas[{i}].code"), format!("区域编码 {} 在本次导入中重复", a.code)));
        }
    }
    if !errs.is_empty() {
        errs.truncate(50);
        return Err(ApiError::validation(errs));
    }
    let mut wanted: Vec<&str> = body.areas.iter().map(|a| a.code.as_str()).collect();
    wanted.extend(body.areas.iter().filter_map(|a| a.parent.as_deref()));
    let existing = stored(db, &wanted).await?;
    let mut order: Vec<(usize, &AreaInput)> = body.areas.iter().enumerate().collect();
    order.sort_by_key(|(_, a)| depth(&a.level).unwrap_or(0));
    let mut placed: HashMap<&str, (String, String, &str)> = HashMap::new(); // code -> (path, full_name, level)
    let mut rows: Vec<Vec<Value>> = Vec::new();
    let now = act.now.to_rfc3339();
    for (i, a) in order {
        let name = a.name.trim();
        let parent = match a.parent.as_deref() {
            None => None,
            Some(p) => match placed
                .get(p)
                .cloned()
                .or_else(|| existing.get(p).map(|s| (s.path.clone(), s.full_name.clone(), level_name(&s.level))))
            {
                Some(found) => Some(found),
                None => {
                    errs.push(FieldError::new(format!("areas[{i}].parent"), format!("上级区域 {p} 不存在")));
                    continue;
                }
            },
        };
        if let Some((_, _, plevel)) = &parent
            && depth(plevel).map(|d| d + 1) != depth(&a.level)
        {
            errs.push(FieldError::new(format!("areas[{i}].parent"), "上级区域的层级应正好高一级"));
            continue;
        }
        let (path, full_name) = match &parent {
            None => (format!("/{}/", a.code), name.to_owned()),
            Some((ppath, pname, plevel)) => {
                let full = if *plevel == "district" { name.to_owned() } else { format!("{pname}{name}") };
                (format!("{ppath}{}/", a.code), full)
            }
        };
        if let Some(old) = existing.get(a.code.as_str())
            && (old.path != path || old.level != a.level)
        {
            errs.push(FieldError::new(
                format!("areas[{i}].parent"),
                format!("区域 {} 已在其他上级之下或层级不同，不能移动或改变层级", a.code),
            ));
            continue;
        }
        rows.push(vec![
            a.code.as_str().into(),
            name.into(),
            a.level.as_str().into(),
            a.parent.clone().into(),
            path.as_str().into(),
            full_name.as_str().into(),
            now.as_str().into(),
        ]);
        placed.insert(a.code.as_str(), (path, full_name, level_name(&a.level)));
    }
    if !errs.is_empty() {
        errs.truncate(50);
        return Err(ApiError::validation(errs));
    }
    let mut stmts = upserts(
        "INSERT INTO supply_areas (code, name, level, parent_code, path, full_name, updated_at) VALUES ",
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
           parent_code = excluded.parent_code, full_name = excluded.full_name, updated_at = excluded.updated_at",
        rows,
    );
    let loaded = body.areas.len();
    stmts.push(audit_stmt(
        act.who,
        "outage.areas.load",
        "supply_areas",
        act.request_id,
        act.now,
        &serde_json::json!({ "areas": loaded }),
    ));
    db.batch(&stmts).await?;
    Ok(Loaded { loaded })
}

fn level_name(level: &str) -> &'static str {
    depth(level).and_then(|d| LEVELS.get(d)).copied().unwrap_or("district")
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
    let mut seen = std::collections::HashSet::new();
    for (i, a) in body.accounts.iter().enumerate() {
        if !seen.insert((a.utility.as_str(), a.account_no.as_str())) {
            errs.push(FieldError::new(format!("accounts[{i}].account_no"), "户号在本次导入中重复"));
        }
        if !matches!(a.utility.as_str(), "water" | "gas") {
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
        errs.truncate(50);
        return Err(ApiError::validation(errs));
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
