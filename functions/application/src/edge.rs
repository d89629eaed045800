//! Workers glue for online applications.

use crate::decide::Step;
use crate::handling::{self, Scope};
use crate::rating::{self, Rating};
use crate::record::{self, Draft};
use crate::subscription_message::{RATING_ACTIONS, RECTIFIED_ACTIONS, SUBMISSION_ACTIONS, offer_step};
use crate::{filing, guide};
use serde::Deserialize;
use serde_json::Value as Json;
use shared::admin::{Act, Principal};
use shared::calendar::{self, Calendar};
use shared::edge::D1Db;
use shared::edge::{self as e, Ctx};
use shared::http::Query;
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::uploads;
use shared::wechat_notify::{Outcome as WeChatOutcome, Purpose};
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

shared::isolate_cache! {
    /// Situation trees parsed by this isolate (see `guide::TREE_CACHE_MS`).
    fn hot_trees() -> crate::situation::Tree = (guide::TREE_CACHE_ENTRIES, guide::TREE_CACHE_MS);
}

/// The tree of an item, from this isolate's memory when recent.
async fn trees(db: &D1Db, kv: &shared::edge::WorkersKv, code: &str) -> ApiResult<std::rc::Rc<crate::situation::Tree>> {
    use shared::runtime::Clock;
    guide::tree_cached(db, kv, hot_trees(), e::EdgeClock.now().timestamp_millis(), code).await
}

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "applications", "resolve"]) => resolve(req, env).await,
        (Method::Get, ["v1", "applications", "life-events"]) => life_events(),
        (Method::Post, ["v1", "applications", "life-events", "resolve"]) => life_event(req, env).await,
        (Method::Post, ["v1", "applications"]) => create(req, env, ctx).await,
        (Method::Post, ["v1", "applications", "bundles"]) => bundle(req, env, ctx).await,
        (Method::Post, ["v1", "applications", "uploads"]) => upload(req, env, ctx).await,
        (Method::Get, ["v1", "applications", "mine"]) => mine(req, env, ctx).await,
        (Method::Get, ["v1", "applications", "reusable"]) => reusable(req, env, ctx).await,
        (Method::Get, ["v1", "applications", "prefill"]) => prefill(req, env, ctx).await,
        (Method::Get, ["v1", "applications", n]) => own(req, env, ctx, n).await,
        (Method::Put, ["v1", "applications", n, "form"]) => form(req, env, ctx, n).await,
        (Method::Put, ["v1", "applications", n, "materials"]) => attach(req, env, ctx, n).await,
        (Method::Post, ["v1", "applications", n, "submit"]) => submit(req, env, ctx, n).await,
        (Method::Get, ["v1", "applications", n, "progress"]) => progress(req, env, n).await,
        (Method::Get, ["v1", "applications", n, "result"]) => citizen_result(req, env, ctx, n).await,
        (Method::Post, ["v1", "applications", n, "rating"]) => rate(req, env, ctx, n).await,
        (Method::Get, ["v1", "admin", "applications"]) => queue(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "applications", "rectifications"]) => rectifications(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "applications", "stats"]) => stats(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "applications", n]) => staff_case(req, env, ctx, n).await,
        (Method::Get, ["v1", "admin", "applications", n, "material"]) => material(req, env, ctx, n).await,
        (Method::Get, ["v1", "admin", "applications", n, "receipt"]) => receipt(req, env, ctx, n).await,
        (Method::Post, ["v1", "admin", "applications", n, "steps"]) => step(req, env, ctx, n).await,
        (Method::Put, ["v1", "admin", "applications", n, "result"]) => attach_result(req, env, ctx, n).await,
        (Method::Get, ["v1", "admin", "applications", n, "result"]) => staff_result(req, env, ctx, n).await,
        (Method::Post, ["v1", "admin", "applications", n, "rectification"]) => rectify(req, env, ctx, n).await,
        (_, ["v1", "applications", ..] | ["v1", "admin", "applications", ..]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answers {
    item_code: String,
    #[serde(default)]
    answers: Vec<String>,
    #[serde(default)]
    form: Option<Json>,
}

/// `POST /v1/applications/resolve`: the next question or the resolved
/// materials (no login: it reads only the published guide).
async fn resolve(req: &mut Request, env: &Env) -> ApiResult<Response> {
    let body: Answers = e::json_body(req, MAX_BODY_BYTES).await?;
    use shared::runtime::Clock;
    // A tree parsed in the last 30 s needs no binding, let alone a read.
    let now = e::EdgeClock.now().timestamp_millis();
    let tree = match guide::hot_tree(hot_trees(), now, &body.item_code) {
        Some(t) => t,
        None => trees(&e::db(env)?, &e::kv(env)?, &body.item_code).await?,
    };
    e::ok_json(&crate::situation::resolve(&tree, &body.answers)?, "no-store")
}

/// `GET /v1/applications/life-events`: the entry trees by life event.
fn life_events() -> ApiResult<Response> {
    let list: Vec<Json> = crate::life_events::all()?
        .into_iter()
        .map(|e| serde_json::json!({ "id": e.id, "name": e.name, "description": e.description }))
        .collect();
    e::ok_json(&serde_json::json!({ "events": list }), "public, max-age=300")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventAnswers {
    event: String,
    #[serde(default)]
    answers: Vec<String>,
}

/// `POST /v1/applications/life-events/resolve`: the next question, or the
/// published items to apply for (two or more: one 一件事一次办 bundle).
async fn life_event(req: &mut Request, env: &Env) -> ApiResult<Response> {
    use crate::life_events::Walk;
    let body: EventAnswers = e::json_body(req, MAX_BODY_BYTES).await?;
    match crate::life_events::walk(&body.event, &body.answers)? {
        q @ Walk::Question { .. } => e::ok_json(&q, "no-store"),
        Walk::Items { basic_codes, answered } => {
            let items = crate::guide::by_basic_codes(&e::db(env)?, &basic_codes).await?;
            let bundle = items.len() > 1;
            e::ok_json(
                &serde_json::json!({ "kind": "items", "items": items, "bundle": bundle, "answered": answered }),
                "no-store",
            )
        }
    }
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Answers = e::json_body(req, MAX_BODY_BYTES).await?;
    let tree = trees(&db, &e::kv(env)?, &body.item_code).await?;
    let form = body.form.unwrap_or_else(|| serde_json::json!({}));
    let d = Draft { tree: &tree, answers: &body.answers, form: &form, bundle: None };
    let a = record::create(&db, &OsRandom, &who.id, &d, ctx.now()).await?;
    Ok(e::ok_json(&a, "private, no-store")?.with_status(201))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bundle {
    parts: Vec<Answers>,
    #[serde(default)]
    form: Option<Json>,
}

/// Most items one 一件事一次办 application files.
const MAX_BUNDLE_PARTS: usize = 6;

/// `POST /v1/applications/bundles`: 一件事一次办, one application per item.
async fn bundle(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Bundle = e::json_body(req, MAX_BODY_BYTES).await?;
    if body.parts.len() < 2 || body.parts.len() > MAX_BUNDLE_PARTS {
        return Err(crate::decide::bad("parts", format!("一件事一次办应包含2到{MAX_BUNDLE_PARTS}个事项")));
    }
    let kv = e::kv(env)?;
    let mut found = Vec::with_capacity(body.parts.len());
    for p in &body.parts {
        found.push(trees(&db, &kv, &p.item_code).await?);
    }
    let parts: Vec<_> = found.iter().zip(body.parts).map(|(t, p)| (&**t, p.answers)).collect();
    let form = body.form.unwrap_or_else(|| serde_json::json!({}));
    let numbers = record::create_bundle(&db, &OsRandom, &who.id, &parts, &form, ctx.now()).await?;
    Ok(e::ok_json(&serde_json::json!({ "numbers": numbers }), "private, no-store")?.with_status(201))
}

/// `POST /v1/applications/uploads`: one material file (JPEG, PNG or PDF, raw body).
async fn upload(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let declared = e::header(req, "content-type").unwrap_or_default();
    let bytes = e::capped_bytes(req, uploads::MAX_UPLOAD_BYTES).await?;
    let up =
        uploads::store(&db, &e::kv(env)?, &OsRandom, &who.id, &declared, &bytes, uploads::DOCUMENTS, ctx.now()).await?;
    Ok(e::ok_json(&up, "private, no-store")?.with_status(201))
}

async fn mine(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let list = record::list_mine(&db, &who.id).await?;
    e::ok_json(&serde_json::json!({ "applications": list }), "private, no-store")
}

async fn reusable(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let name = q.get("material").ok_or_else(|| ApiError::bad_field("material", "请提供材料名称"))?;
    let files = filing::reusable(&db, &who.id, name).await?;
    e::ok_json(&serde_json::json!({ "files": files }), "private, no-store")
}

/// `GET /v1/applications/prefill?item_code=`: the form filled in from the
/// profile, the bound water accounts and the latest filed application.
async fn prefill(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let code = q.get("item_code").ok_or_else(|| ApiError::bad_field("item_code", "请提供事项的实施编码"))?;
    let code =
        shared::types::ItemCode::parse(code).map_err(|_| ApiError::bad_field("item_code", "实施编码格式不正确"))?;
    e::ok_json(&crate::prefill::load(&db, &who.id, code.as_str()).await?, "private, no-store")
}

async fn own(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&record::mine(&db, &who.id, n).await?, "private, no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormBody {
    form: Json,
}

async fn form(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: FormBody = e::json_body(req, MAX_BODY_BYTES).await?;
    e::ok_json(&record::update_form(&db, &who.id, n, &body.form, ctx.now()).await?, "private, no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attach {
    material: String,
    upload_id: String,
}

async fn attach(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Attach = e::json_body(req, MAX_BODY_BYTES).await?;
    let a = filing::attach(&db, &who.id, n, &body.material, &body.upload_id, ctx.now()).await?;
    e::ok_json(&a, "private, no-store")
}

async fn submit(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let a = filing::submit(&db, &OsRandom, &who.id, n, ctx.now()).await?;
    tell_by_wechat(env, &db, ctx, &a.number, SUBMISSION_ACTIONS).await;
    e::ok_json(&a, "private, no-store")
}

/// Offers the applicant the step just written by 订阅消息 (purpose
/// `application_progress`) when the mini-program and the template are
/// configured. The step and its inbox message are already stored, so nothing
/// here fails the request: with no acceptance, a refusal or a failure
/// (`needs_fallback`) the inbox message is the notice; errors are logged.
async fn tell_by_wechat(env: &Env, db: &D1Db, ctx: &Ctx, number: &str, actions: &[&str]) {
    let log = |level: &str, outcome: &str, code: Option<&str>, detail: Option<&str>| {
        worker::console_log!(
            "{}",
            serde_json::json!({ "level": level, "event": "application.wechat", "outcome": outcome,
                "code": code, "detail": detail, "request_id": ctx.request_id })
        );
    };
    let kv = match e::kv(env) {
        Ok(kv) => kv,
        Err(err) => return log("warn", "error", Some(err.code.as_str()), err.internal.as_deref()),
    };
    let Some((app, templates)) = e::wechat(env, &kv, Purpose::ApplicationProgress) else { return };
    match offer_step(db, &app, &OsRandom, &templates, number, actions, ctx.now()).await {
        Ok(outcome @ (WeChatOutcome::Refused | WeChatOutcome::Failed)) => log("info", outcome.as_str(), None, None),
        Ok(_) => {}
        Err(err) => log("warn", "error", Some(err.code.as_str()), err.internal.as_deref()),
    }
}

async fn progress(req: &Request, env: &Env, n: &str) -> ApiResult<Response> {
    e::limit_lookups(req, env).await?;
    e::ok_json(&record::progress(&e::db(env)?, n).await?, "no-store")
}

async fn city_calendar(db: &D1Db, ctx: &Ctx) -> ApiResult<Calendar> {
    let today = ctx.now().date();
    calendar::load(db, today, today + chrono::Days::new(400)).await
}

async fn rate(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Rating = e::json_body(req, MAX_BODY_BYTES).await?;
    let days = e::config(env, "RECTIFY_DAYS").and_then(|v| v.parse().ok()).unwrap_or(rating::DEFAULT_RECTIFY_DAYS);
    let cal = city_calendar(&db, ctx).await?;
    rating::rate(&db, &OsRandom, &who.id, n, &body, days, &cal, ctx.now()).await?;
    // `rate` parsed the number already; the rating is stored, so no error may follow it.
    if let (true, Ok(number)) = (rating::opens_rectification(body.grade), record::parse_number(n)) {
        tell_by_wechat(env, &db, ctx, &number, RATING_ACTIONS).await;
    }
    e::no_content()
}

async fn staff_scope(req: &Request, db: &D1Db, ctx: &Ctx, reading: bool) -> ApiResult<(Principal, Scope)> {
    let who = e::staff(req, db, ctx).await?;
    let scope = handling::scope_of(db, &who, reading).await?;
    Ok((who, scope))
}

async fn queue(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, true).await?;
    let q = Query::parse(&ctx.query)?;
    let status = match q.get("status") {
        Some(s) => {
            Some(crate::status::Status::parse(s).ok_or_else(|| ApiError::bad_field("status", "未知的办件状态"))?)
        }
        None => None,
    };
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let rows = handling::queue(&db, &act, &scope, status).await?;
    e::ok_json(&serde_json::json!({ "applications": rows }), "no-store")
}

async fn staff_case(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, true).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&handling::case(&db, &act, &scope, n).await?, "no-store")
}

async fn material(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let q = Query::parse(&ctx.query)?;
    let name = q.get("name").ok_or_else(|| ApiError::bad_field("name", "请提供材料名称"))?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let id = handling::open_material(&db, &act, &scope, n, name).await?;
    let (ctype, bytes) = uploads::read(&db, &e::kv(env)?, &id).await?;
    e::private_file(&ctype, bytes)
}

/// `PUT /v1/admin/applications/{number}/result`: the 电子 result file (PDF,
/// PNG or JPG, the bytes as the body), attached while handling.
async fn attach_result(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let declared = e::header(req, "content-type").unwrap_or_default();
    let bytes = e::capped_bytes(req, uploads::MAX_UPLOAD_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let file = crate::result::Incoming { declared: &declared, bytes: &bytes };
    let a = crate::result::attach(&db, &e::kv(env)?, &OsRandom, &act, &scope, n, file).await?;
    e::ok_json(&a, "no-store")
}

/// `GET /v1/admin/applications/{number}/result`: the department reads the file (logged).
async fn staff_result(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let (id, number) = crate::result::for_staff(&db, &act, &scope, n).await?;
    download(&db, env, &id, &number).await
}

/// `GET /v1/applications/{number}/result`: the applicant downloads the 电子 result once 办结.
async fn citizen_result(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let (id, number) = crate::result::for_citizen(&db, &who.id, n).await?;
    download(&db, env, &id, &number).await
}

async fn download(db: &D1Db, env: &Env, id: &str, number: &str) -> ApiResult<Response> {
    let (ctype, bytes) = uploads::read(db, &e::kv(env)?, id).await?;
    let resp = e::private_file(&ctype, bytes)?;
    let _ = resp.headers().set("content-disposition", &crate::result::content_disposition(number, &ctype));
    Ok(resp)
}

/// `GET /v1/admin/applications/{number}/receipt`: the 受理通知书 as a printable page.
async fn receipt(req: &Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let a = handling::case(&db, &act, &scope, n).await?;
    let html = crate::receipt::render(&a)
        .ok_or_else(|| ApiError::with_message(ErrorCode::Conflict, "该申请尚未受理，没有受理通知书"))?;
    let resp = e::text_response(200, html, "text/html; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "no-store");
    let _ = resp.headers().set("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
    Ok(resp)
}

async fn step(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let body: Step = e::json_body(req, MAX_BODY_BYTES).await?;
    let cal = city_calendar(&db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let a = handling::act_on(&db, &OsRandom, &act, &scope, n, &body, &cal).await?;
    tell_by_wechat(env, &db, ctx, &a.number, &[body.action()]).await;
    e::ok_json(&a, "no-store")
}

fn day(q: &Query, key: &str) -> ApiResult<chrono::NaiveDate> {
    let raw = q.get(key).ok_or_else(|| ApiError::bad_field(key, format!("请提供 {key}（YYYY-MM-DD）")))?;
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ApiError::bad_field(key, "日期格式应为 YYYY-MM-DD"))
}

/// `GET /v1/admin/applications/stats?from=&to=`: on-time and notice rates, average working days.
async fn stats(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (_, scope) = staff_scope(req, &db, ctx, true).await?;
    let q = Query::parse(&ctx.query)?;
    let (from, to) = (day(&q, "from")?, day(&q, "to")?);
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::bad_field("from,to", "日期范围应在一年以内，且 from 不晚于 to"));
    }
    let cal = calendar::load(&db, from, to + chrono::Days::new(400)).await?;
    e::ok_json(&crate::stats::load(&db, &scope, from, to, &cal).await?, "no-store")
}

async fn rectifications(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, true).await?;
    let list = rating::list(&db, &scope).await?;
    // The tasks carry citizens' own words: the read is logged.
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    shared::admin::log_access(&db, &act, "application.rectifications", "open").await?;
    e::ok_json(&serde_json::json!({ "rectifications": list }), "no-store")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Outcome {
    outcome: String,
}

async fn rectify(req: &mut Request, env: &Env, ctx: &Ctx, n: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let (who, scope) = staff_scope(req, &db, ctx, false).await?;
    let body: Outcome = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    rating::close(&db, &OsRandom, &act, &scope, n, &body.outcome).await?;
    if let Ok(number) = record::parse_number(n) {
        tell_by_wechat(env, &db, ctx, &number, RECTIFIED_ACTIONS).await;
    }
    e::no_content()
}

/// The hourly sweep: overdue marks and due-soon warnings, logged.
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    use shared::runtime::Clock;
    let now = shared::types::BeijingTime::from_utc(shared::edge::EdgeClock.now());
    let line = match e::db(&env) {
        Ok(db) => match sweep(&db, now).await {
            Ok(s) => serde_json::json!({ "level": "info", "event": "application.sweep", "cron": event.cron(),
                "overdue": s.overdue, "warned": s.warned }),
            Err(err) => {
                serde_json::json!({ "level": "error", "event": "application.sweep", "code": err.code.as_str(), "detail": err.internal })
            }
        },
        Err(err) => serde_json::json!({ "level": "error", "event": "application.sweep", "code": err.code.as_str() }),
    };
    worker::console_log!("{line}");
}

async fn sweep(db: &D1Db, now: shared::types::BeijingTime) -> ApiResult<handling::Sweep> {
    let cal = calendar::load(db, now.date(), now.date() + chrono::Days::new(60)).await?;
    handling::sweep(db, now, &cal).await
}
