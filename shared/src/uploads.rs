//! Private uploads (invoice documents, complaint photos): the bytes live in
//! KV (`upload:{id}`, base64), never behind a public route; a D1 row says
//! whose they are, what they are, and what they were attached to (once).

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::runtime::IdSource;
use crate::store::{Db, Kv, Stmt};
use crate::types::BeijingTime;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Largest file accepted (a phone photo is 1-4 MB).
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// Images only (complaint photos).
pub const IMAGES: &[&str] = &["image/jpeg", "image/png"];
/// Images and PDF (documents).
pub const DOCUMENTS: &[&str] = &["image/jpeg", "image/png", "application/pdf"];

/// The type of a file by its first bytes; the declared type must agree.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

fn kv_key(id: &str) -> String {
    format!("upload:{id}")
}

/// A stored file as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Upload {
    pub id: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: String,
}

/// Stores a file of one of the `allowed` types: the declared type must be
/// allowed and match the bytes; at most [`MAX_UPLOAD_BYTES`]. The bytes go
/// to KV first, so a row never points at nothing.
#[allow(clippy::too_many_arguments)]
pub async fn store(
    db: &impl Db,
    kv: &impl Kv,
    ids: &impl IdSource,
    citizen: &str,
    declared: &str,
    bytes: &[u8],
    allowed: &[&str],
    now: BeijingTime,
) -> ApiResult<Upload> {
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let sniffed = sniff(bytes);
    if bytes.is_empty()
        || bytes.len() > MAX_UPLOAD_BYTES
        || sniffed != Some(declared.as_str())
        || !allowed.contains(&declared.as_str())
    {
        let kinds =
            if allowed.contains(&"application/pdf") { "JPG、PNG 或 PDF 文件" } else { "JPG 或 PNG 图片" };
        return Err(ApiError::with_message(
            ErrorCode::UploadInvalid,
            format!("请上传 {kinds}，大小不超过 {} MB，且文件类型与内容一致", MAX_UPLOAD_BYTES / 1024 / 1024),
        ));
    }
    let id = format!("up_{}", ids.hex(12)?);
    kv.put(&kv_key(&id), &base64::engine::general_purpose::STANDARD.encode(bytes), None).await?;
    let digest: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    db.execute(
        "INSERT INTO uploads (id, citizen_id, content_type, size, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            id.as_str().into(),
            citizen.into(),
            declared.as_str().into(),
            (bytes.len() as i64).into(),
            digest.into(),
            now.to_rfc3339().into(),
        ],
    )
    .await?;
    Ok(Upload { id, content_type: declared, size: bytes.len() as i64, created_at: now.to_rfc3339() })
}

/// Whether every id is the citizen's, unused, and of an `allowed` type.
pub async fn all_free(db: &impl Db, citizen: &str, ids: &[String], allowed: &[&str]) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let types = serde_json::to_string(allowed).unwrap_or_else(|_| "[]".into());
    let n: Option<N> = db
        .first_as(
            "SELECT COUNT(*) AS n FROM uploads WHERE id IN (SELECT value FROM json_each(?1)) AND citizen_id = ?2
               AND used_by IS NULL AND content_type IN (SELECT value FROM json_each(?3))",
            &[list.into(), citizen.into(), types.into()],
        )
        .await?;
    Ok(n.is_some_and(|n| n.n == ids.len() as i64))
}

/// Marks uploads used by `owner`; part of the owner's batch, guarded so two
/// owners cannot both take one.
pub fn claim_stmts(owner: &str, ids: &[String]) -> Vec<Stmt> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    vec![
        Stmt::precondition(
            "(SELECT COUNT(*) FROM uploads WHERE id IN (SELECT value FROM json_each(?1)) AND used_by IS NULL) = ?2",
            vec![list.as_str().into(), (ids.len() as i64).into()],
        ),
        Stmt::new(
            "UPDATE uploads SET used_by = ?1 WHERE id IN (SELECT value FROM json_each(?2)) AND used_by IS NULL",
            vec![owner.into(), list.into()],
        ),
    ]
}

/// Deletes the bytes of these uploads (account deletion; the rows go in
/// the caller's batch).
pub async fn forget_blobs(kv: &impl Kv, ids: &[String]) -> ApiResult<()> {
    for id in ids {
        kv.delete(&kv_key(id)).await?;
    }
    Ok(())
}

/// The type and bytes of a stored file (the caller decides who may read it).
pub async fn read(db: &impl Db, kv: &impl Kv, id: &str) -> ApiResult<(String, Vec<u8>)> {
    let row: Option<Upload> =
        db.first_as("SELECT id, content_type, size, created_at FROM uploads WHERE id = ?1", &[id.into()]).await?;
    let row = row.ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "文件不存在"))?;
    // No bytes: deleted with the uploader's account (identity::erasure).
    let text = kv
        .get(&kv_key(id))
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "文件已随申请人账户注销删除"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| ApiError::internal(format!("upload {id}: {e}")))?;
    Ok((row.content_type, bytes))
}
