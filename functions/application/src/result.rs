//! The 电子 result of an application (003 §5.1 网上办理: results by post or
//! download): the handler attaches the file while handling (accepted, before
//! 办结), 办结 by 电子 needs it, and afterwards only the applicant downloads it.
//! The file is a private upload owned by the applicant (erased with the
//! account); every staff read is logged.

use crate::decide::may_attach_result;
use crate::handling::{Scope, in_scope};
use crate::record::{self, Application, event_stmt};
use crate::status::Status;
use shared::admin::{Act, Role, audit_stmt, log_access};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Kv, Stmt};
use shared::uploads;

/// The file as it arrives: the declared type and the bytes.
pub struct Incoming<'a> {
    pub declared: &'a str,
    pub bytes: &'a [u8],
}

/// Attaches (or replaces) the result file; the application's version moves,
/// so a step decided on what was read before answers 409.
pub async fn attach(
    db: &impl Db,
    kv: &impl Kv,
    ids: &impl IdSource,
    act: &Act<'_>,
    scope: &Scope,
    raw: &str,
    file: Incoming<'_>,
) -> ApiResult<Application> {
    act.who.require(Role::ApplicationHandler)?;
    let r = in_scope(db, scope, raw).await?;
    let status = r.status()?;
    may_attach_result(status)?;
    let up = uploads::store(db, kv, ids, &r.citizen_id, file.declared, file.bytes, uploads::DOCUMENTS, act.now).await?;
    let stmts = attach_stmts(act, &r.number, r.version, status, &up, r.result_upload.as_deref());
    if let Err(e) = db.batch(&stmts).await {
        // Changed meanwhile: the new file is nobody's, so it goes.
        let _ = db.execute("DELETE FROM uploads WHERE id = ?1 AND used_by IS NULL", &[up.id.as_str().into()]).await;
        let _ = uploads::forget_blobs(kv, std::slice::from_ref(&up.id)).await;
        return Err(e);
    }
    if let Some(old) = &r.result_upload {
        uploads::forget_blobs(kv, std::slice::from_ref(old)).await?;
    }
    record::assemble(db, record::row(db, &r.number).await?).await
}

fn attach_stmts(
    act: &Act<'_>,
    n: &str,
    version: i64,
    status: Status,
    up: &uploads::Upload,
    old: Option<&str>,
) -> Vec<Stmt> {
    let at = act.now.to_rfc3339();
    let mut stmts = vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM applications WHERE number = ?1 AND version = ?2
               AND status IN ('accepted', 'accepted_pending'))",
            vec![n.into(), version.into()],
        ),
        Stmt::new(
            "UPDATE applications SET result_upload = ?2, version = version + 1, updated_at = ?3 WHERE number = ?1",
            vec![n.into(), up.id.as_str().into(), at.as_str().into()],
        ),
    ];
    stmts.extend(uploads::claim_stmts(&format!("result:{n}"), std::slice::from_ref(&up.id)));
    if let Some(old) = old {
        stmts.push(Stmt::new("DELETE FROM uploads WHERE id = ?1", vec![old.into()]));
    }
    let note = if old.is_some() { "电子结果文件已更新" } else { "电子结果文件已上传" };
    stmts.push(event_stmt(n, "result", status, &act.who.name, note, &at));
    stmts.push(audit_stmt(
        act.who,
        "application.result",
        n,
        act.request_id,
        act.now,
        &serde_json::json!({ "upload": up.id, "content_type": up.content_type, "size": up.size, "replaced": old }),
    ));
    stmts
}

/// The result file of the citizen's own finished application.
pub async fn for_citizen(db: &impl Db, citizen: &str, raw: &str) -> ApiResult<(String, String)> {
    let r = record::own_row(db, citizen, raw).await?;
    if r.status()? != Status::Completed {
        return Err(ApiError::with_message(ErrorCode::NotFound, "该办件尚未办结，办理结果还不能下载"));
    }
    let id = r.result_upload.ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "该办件没有电子结果文件"))?;
    Ok((id, r.number))
}

/// The result file as the department reads it; the read is logged.
pub async fn for_staff(db: &impl Db, act: &Act<'_>, scope: &Scope, raw: &str) -> ApiResult<(String, String)> {
    let r = in_scope(db, scope, raw).await?;
    let id = r.result_upload.ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "尚未上传电子结果文件"))?;
    log_access(db, act, "application.result", &r.number).await?;
    Ok((id, r.number))
}

/// The name a download is saved under: the 办件编号 and what it is.
pub fn file_name(number: &str, content_type: &str) -> String {
    let ext = match content_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    };
    format!("{number}-办理结果.{ext}")
}

/// The Content-Disposition of a download: an ASCII fallback name and the
/// Chinese one percent-encoded (RFC 6266 / RFC 5987).
pub fn content_disposition(number: &str, content_type: &str) -> String {
    let name = file_name(number, content_type);
    let ascii: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_are_named_in_both_forms() {
        let d = content_disposition("SB20261201ABCDEFGHJK7", "application/pdf");
        assert!(d.starts_with("attachment; filename=\"SB20261201ABCDEFGHJK7-.pdf\""), "{d}");
        assert!(d.ends_with("filename*=UTF-8''SB20261201ABCDEFGHJK7-%E5%8A%9E%E7%90%86%E7%BB%93%E6%9E%9C.pdf"), "{d}");
    }

    #[test]
    fn names_carry_the_number_and_the_type() {
        assert_eq!(file_name("SB1", "application/pdf"), "SB1-办理结果.pdf");
        assert_eq!(file_name("SB1", "image/png"), "SB1-办理结果.png");
        assert_eq!(file_name("SB1", "image/jpeg"), "SB1-办理结果.jpg");
    }
}
