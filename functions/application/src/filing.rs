//! Attaching materials (new uploads or 材料复用), submitting, correcting
//! after a one-time notice and supplying 容缺 materials.

use crate::record::{self, Application, Row, event_stmt, notice_stmt, own_row};
use crate::status::Status;
use serde::Deserialize;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;
use shared::uploads::DOCUMENTS;

fn conflict(msg: &str) -> ApiError {
    ApiError::with_message(ErrorCode::Conflict, msg)
}

#[derive(Deserialize)]
struct UploadRow {
    citizen_id: String,
    content_type: String,
    used_by: Option<String>,
}

/// Whether the citizen may change `material` of an application in `status`
/// (a draft: any; a correction or 容缺: only those asked for).
fn may_change(status: Status, asked: bool) -> ApiResult<()> {
    match status {
        Status::Draft => Ok(()),
        Status::Correction | Status::AcceptedPending if asked => Ok(()),
        Status::Correction | Status::AcceptedPending => Err(conflict("只需补正告知中列出的材料，其他材料保持不变")),
        _ => Err(conflict("申请已提交，材料不能再更换")),
    }
}

/// Attaches the citizen's upload `upload_id` as `material`: a new upload is
/// claimed for this application; one already attached to another of the
/// citizen's applications is reused (材料复用), never taken from it.
pub async fn attach(
    db: &impl Db,
    citizen: &str,
    raw: &str,
    material: &str,
    upload_id: &str,
    now: BeijingTime,
) -> ApiResult<Application> {
    let r = own_row(db, citizen, raw).await?;
    let mats = record::materials(db, &r.number).await?;
    let m = mats
        .iter()
        .find(|m| m.name == material)
        .ok_or_else(|| crate::decide::bad("material", "本申请不需要这项材料"))?;
    let status = r.status()?;
    may_change(status, m.correction.is_some())?;
    if status != Status::Draft && mats.iter().any(|x| x.upload_id.as_deref() == Some(upload_id)) {
        return Err(crate::decide::bad("upload_id", "请上传新的文件替换告知中指出的材料"));
    }
    let up: Option<UploadRow> =
        db.first_as("SELECT citizen_id, content_type, used_by FROM uploads WHERE id = ?1", &[upload_id.into()]).await?;
    let up = up
        .filter(|u| u.citizen_id == citizen && DOCUMENTS.contains(&u.content_type.as_str()))
        .ok_or_else(|| crate::decide::bad("upload_id", "没有找到您上传的这个文件"))?;
    let reused = match up.used_by.as_deref() {
        None => false,
        Some(by) if by == r.number => m.reused,
        Some(by) if by.starts_with(record::PREFIX) => true,
        Some(_) => return Err(crate::decide::bad("upload_id", "该文件已用于其他业务，请重新上传")),
    };
    let at = now.to_rfc3339();
    let mut stmts = vec![Stmt::precondition(
        "EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND version = ?2)",
        vec![r.number.as_str().into(), r.version.into()],
    )];
    if up.used_by.is_none() {
        stmts.extend(shared::uploads::claim_stmts(&r.number, &[upload_id.to_owned()]));
    } else if reused {
        // A reused file must still belong to one of the citizen's own applications.
        stmts.push(Stmt::precondition(
            "EXISTS (SELECT 1 FROM uploads u JOIN applications a ON a.number = u.used_by
                      WHERE u.id = ?1 AND a.citizen_id = ?2)",
            vec![upload_id.into(), citizen.into()],
        ));
    }
    stmts.push(Stmt::new(
        "UPDATE application_materials SET upload_id = ?3, reused = ?4, replaced = CASE WHEN correction IS NULL THEN 0 ELSE 1 END
         WHERE number = ?1 AND name = ?2",
        vec![r.number.as_str().into(), material.into(), upload_id.into(), i64::from(reused).into()],
    ));
    stmts.push(Stmt::new(
        "UPDATE applications SET version = version + 1, updated_at = ?2 WHERE number = ?1",
        vec![r.number.as_str().into(), at.into()],
    ));
    db.batch(&stmts).await?;
    record::mine(db, citizen, &r.number).await
}

/// The citizen's earlier files that can be reused for `material`: those
/// attached as a material of the same name to their other applications.
pub async fn reusable(db: &impl Db, citizen: &str, material: &str) -> ApiResult<Vec<serde_json::Value>> {
    #[derive(Deserialize, serde::Serialize)]
    struct R {
        upload_id: String,
        number: String,
        item_name: String,
        created_at: String,
    }
    let rows: Vec<R> = db
        .query_as(
            "SELECT DISTINCT m.upload_id AS upload_id, a.number AS number, a.item_name AS item_name, u.created_at AS created_at
             FROM application_materials m JOIN applications a ON a.number = m.number
             JOIN uploads u ON u.id = m.upload_id AND u.used_by = a.number
             WHERE a.citizen_id = ?1 AND m.name = ?2 AND m.reused = 0 ORDER BY u.created_at DESC LIMIT 10",
            &[citizen.into(), material.into()],
        )
        .await?;
    Ok(rows.into_iter().filter_map(|r| serde_json::to_value(r).ok()).collect())
}

fn missing(mats: &[record::Material], status: Status) -> Vec<String> {
    mats.iter()
        .filter(|m| match status {
            Status::Draft => m.required && m.upload_id.is_none(),
            _ => m.correction.is_some() && !m.replaced,
        })
        .map(|m| m.name.clone())
        .collect()
}

/// Submits a draft, resubmits after a correction, or reports 容缺 materials
/// supplied. Each answers with the application and a notice in the inbox.
pub async fn submit(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    raw: &str,
    now: BeijingTime,
) -> ApiResult<Application> {
    let r = own_row(db, citizen, raw).await?;
    let status = r.status()?;
    let mats = record::materials(db, &r.number).await?;
    let lacking = missing(&mats, status);
    if !lacking.is_empty() {
        return Err(crate::decide::bad("materials", format!("还缺少材料：{}", lacking.join("、"))));
    }
    let (next, action, title, note) = match status {
        Status::Draft => (Status::Submitted, "submit", "申请已提交", "您的申请已提交，部门将进行预审".to_owned()),
        Status::Correction => {
            (Status::Submitted, "resubmit", "补正材料已提交", "补正材料已提交，部门将重新预审".to_owned())
        }
        Status::AcceptedPending => {
            (Status::Accepted, "supply", "容缺材料已补齐", "容缺材料已补齐，部门继续办理".to_owned())
        }
        _ => return Err(conflict("该申请已提交，无需重复提交")),
    };
    db.batch(&submit_stmts(ids, &r, status, next, (action, title, &note), now)?).await?;
    record::mine(db, citizen, &r.number).await
}

fn submit_stmts(
    ids: &impl IdSource,
    r: &Row,
    was: Status,
    next: Status,
    (action, title, note): (&str, &str, &str),
    now: BeijingTime,
) -> ApiResult<Vec<Stmt>> {
    let at = now.to_rfc3339();
    let n = r.number.as_str();
    Ok(vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND version = ?2 AND status = ?3)",
            vec![n.into(), r.version.into(), was.as_str().into()],
        ),
        Stmt::new(
            "UPDATE applications SET status = ?2, version = version + 1, updated_at = ?3,
                submitted_at = COALESCE(submitted_at, ?3), field_fixes = '[]',
                pending_until = CASE WHEN ?2 = 'accepted' THEN NULL ELSE pending_until END
             WHERE number = ?1",
            vec![n.into(), next.as_str().into(), at.as_str().into()],
        ),
        Stmt::new("UPDATE application_materials SET correction = NULL, replaced = 0 WHERE number = ?1", vec![n.into()]),
        event_stmt(n, action, next, "citizen", note, &at),
        notice_stmt(ids, &r.citizen_id, n, title, note, now)?,
    ])
}
