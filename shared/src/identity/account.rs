//! Citizen accounts and the personal center (002 §4.6): find or create by
//! openid or phone, bind a phone, read and edit contact fields, delete
//! (GB/T 35273: personal data removed, the row kept only as an anonymous id
//! so records that must stay, such as complaints, keep a valid reference).

use crate::crypto::Pepper;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldError};
use crate::runtime::IdSource;
use crate::store::{Db, HotCache, Stmt};
use crate::types::{BeijingTime, MobileNumber};
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use validator::ValidateEmail;

#[derive(Deserialize)]
struct Id {
    id: String,
}

async fn find(db: &impl Db, column: &str, value: &str) -> ApiResult<Option<String>> {
    let sql = format!("SELECT id FROM citizens WHERE {column} = ?1 AND deleted_at IS NULL");
    Ok(db.first_as::<Id>(&sql, &[value.into()]).await?.map(|r| r.id))
}

fn new_id(ids: &impl IdSource) -> ApiResult<String> {
    Ok(format!("cit_{}", ids.hex(8)?))
}

/// The citizen with this WeChat openid, created on first login.
pub async fn by_openid(
    db: &impl Db,
    ids: &impl IdSource,
    openid: &str,
    now: BeijingTime,
) -> ApiResult<(String, Vec<Stmt>)> {
    if let Some(id) = find(db, "openid", openid).await? {
        return Ok((id, vec![]));
    }
    let id = new_id(ids)?;
    let stmt = Stmt::new(
        "INSERT INTO citizens (id, openid, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        vec![id.as_str().into(), openid.into(), now.to_rfc3339().into()],
    );
    Ok((id, vec![stmt]))
}

/// The existing citizen with this confirmed phone, if any (nothing created).
pub async fn find_by_phone(db: &impl Db, pepper: &Pepper, phone: &MobileNumber) -> ApiResult<Option<String>> {
    find(db, "phone_hash", &pepper.phone_hash(phone)).await
}

/// The citizen's confirmed phone, if any (for an SMS to them; never shown).
pub async fn phone(db: &impl Db, citizen_id: &str) -> ApiResult<Option<MobileNumber>> {
    #[derive(Deserialize)]
    struct Row {
        phone: Option<String>,
    }
    let row: Option<Row> = db.first_as("SELECT phone FROM citizens WHERE id = ?1", &[citizen_id.into()]).await?;
    Ok(row.and_then(|r| r.phone).and_then(|p| MobileNumber::parse(&p).ok()))
}

/// The citizen with this confirmed phone, created on first phone login.
pub async fn by_phone(
    db: &impl Db,
    ids: &impl IdSource,
    pepper: &Pepper,
    phone: &MobileNumber,
    now: BeijingTime,
) -> ApiResult<(String, Vec<Stmt>)> {
    if let Some(id) = find_by_phone(db, pepper, phone).await? {
        return Ok((id, vec![]));
    }
    let id = new_id(ids)?;
    let stmt = Stmt::new(
        "INSERT INTO citizens (id, phone, phone_hash, real_name_level, created_at, updated_at) VALUES (?1, ?2, ?3, 1, ?4, ?4)",
        vec![id.as_str().into(), phone.expose().into(), pepper.phone_hash(phone).into(), now.to_rfc3339().into()],
    );
    Ok((id, vec![stmt]))
}

/// Binds a confirmed phone to a citizen that has none (or has this one); 409
/// if another account holds it. Replacing a bound phone needs proof of the
/// old one: [`bind_phone_stmts`] with the old phone's HMAC, after that proof.
pub async fn bind_phone(
    db: &impl Db,
    pepper: &Pepper,
    citizen_id: &str,
    phone: &MobileNumber,
    now: BeijingTime,
) -> ApiResult<()> {
    let stmts = bind_phone_stmts(db, pepper, citizen_id, None, phone, now).await?;
    db.batch(&stmts).await?;
    Ok(())
}

/// The HMAC of the citizen's bound phone, if any.
pub async fn phone_hash(db: &impl Db, citizen_id: &str) -> ApiResult<Option<String>> {
    #[derive(Deserialize)]
    struct Hash {
        phone_hash: Option<String>,
    }
    let row: Option<Hash> = db.first_as("SELECT phone_hash FROM citizens WHERE id = ?1", &[citizen_id.into()]).await?;
    Ok(row.and_then(|r| r.phone_hash))
}

/// The write that binds `phone` to a citizen whose bound phone is `replaced`
/// (its HMAC; `None` for a first phone); 409 `phone_already_bound` if another
/// account holds the new phone. The batch fails (409 `conflict`) unless the
/// citizen's phone is still `replaced` or already `phone` when it runs, so a
/// concurrent change cannot slip in between the proof and the write.
pub async fn bind_phone_stmts(
    db: &impl Db,
    pepper: &Pepper,
    citizen_id: &str,
    replaced: Option<&str>,
    phone: &MobileNumber,
    now: BeijingTime,
) -> ApiResult<Vec<Stmt>> {
    let hash = pepper.phone_hash(phone);
    if find(db, "phone_hash", &hash).await?.is_some_and(|owner| owner != citizen_id) {
        return Err(ErrorCode::PhoneAlreadyBound.into());
    }
    Ok(vec![
        Stmt::precondition(
            "(SELECT phone_hash IS ?2 OR phone_hash = ?3 FROM citizens WHERE id = ?1 AND deleted_at IS NULL)",
            vec![citizen_id.into(), replaced.into(), hash.as_str().into()],
        ),
        Stmt::new(
            "UPDATE citizens SET phone = ?1, phone_hash = ?2, real_name_level = MAX(real_name_level, 1), updated_at = ?3
             WHERE id = ?4 AND deleted_at IS NULL",
            vec![phone.expose().into(), hash.into(), now.to_rfc3339().into(), citizen_id.into()],
        ),
    ])
}

/// The personal center as the citizen sees it (phone masked).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Profile {
    pub id: String,
    pub phone: Option<String>,
    pub login_methods: Vec<&'static str>,
    pub real_name_level: i64,
    pub email: Option<String>,
    pub mailing_address: Option<String>,
    pub created_at: String,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    openid: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    mailing_address: Option<String>,
    real_name_level: i64,
    created_at: String,
}

/// Reads the citizen's own profile.
pub async fn profile(db: &impl Db, citizen_id: &str) -> ApiResult<Profile> {
    let row: Row = db
        .first_as(
            "SELECT id, openid, phone, email, mailing_address, real_name_level, created_at FROM citizens
             WHERE id = ?1 AND deleted_at IS NULL",
            &[citizen_id.into()],
        )
        .await?
        .ok_or(ErrorCode::LoginRequired)?;
    let mut login_methods = Vec::new();
    if row.openid.is_some() {
        login_methods.push("wechat");
    }
    if row.phone.is_some() {
        login_methods.push("phone");
    }
    Ok(Profile {
        id: row.id,
        phone: row.phone.as_deref().map(crate::pii::mask_phone),
        login_methods,
        real_name_level: row.real_name_level,
        email: row.email,
        mailing_address: row.mailing_address,
        created_at: row.created_at,
    })
}

/// How long an isolate reuses a profile it read: the bound on how late an
/// edit made through another isolate shows (the editing isolate forgets at once).
pub const PROFILE_CACHE_MS: i64 = 10_000;

/// The profile, from this isolate's memory when read in the last
/// [`PROFILE_CACHE_MS`].
pub async fn cached_profile(
    db: &impl Db,
    hot: &HotCache<Profile>,
    citizen_id: &str,
    now_ms: i64,
) -> ApiResult<Rc<Profile>> {
    if let Some(p) = hot.get(citizen_id, now_ms) {
        return Ok(p);
    }
    let p = Rc::new(profile(db, citizen_id).await?);
    hot.put(citizen_id, Rc::clone(&p), now_ms);
    Ok(p)
}

/// Editable contact fields (002 §4.6); an empty string clears a field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub email: Option<String>,
    pub mailing_address: Option<String>,
}

/// Longest mailing address kept.
pub const MAX_ADDRESS_CHARS: usize = 200;

/// Applies a patch after checking every field.
pub async fn update(db: &impl Db, citizen_id: &str, patch: ProfilePatch, now: BeijingTime) -> ApiResult<Profile> {
    let mut errs = Vec::new();
    let email = patch.email.map(|e| e.trim().to_owned());
    if email.as_deref().is_some_and(|e| !e.is_empty() && !e.validate_email()) {
        errs.push(FieldError::new("email", "电子邮箱格式不正确"));
    }
    let address = patch.mailing_address.map(|a| a.trim().to_owned());
    if address.as_deref().is_some_and(|a| a.chars().count() > MAX_ADDRESS_CHARS) {
        errs.push(FieldError::new("mailing_address", format!("收件地址不超过{MAX_ADDRESS_CHARS}字")));
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let mut stmts = Vec::new();
    for (column, value) in [("email", email), ("mailing_address", address)] {
        if let Some(v) = value {
            let v = if v.is_empty() { None } else { Some(v) };
            stmts.push(Stmt::new(
                format!("UPDATE citizens SET {column} = ?1, updated_at = ?2 WHERE id = ?3 AND deleted_at IS NULL"),
                vec![v.into(), now.to_rfc3339().into(), citizen_id.into()],
            ));
        }
    }
    if !stmts.is_empty() {
        db.batch(&stmts).await?;
    }
    profile(db, citizen_id).await
}
