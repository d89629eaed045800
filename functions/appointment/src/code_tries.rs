//! Wrong check-in codes. A code is six random digits; a staff member who could
//! try them without end would check in, sooner or later, bookings whose holder
//! never came (a false 已签到 hides a no-show). So every try at the desk, by
//! code or by booking number, takes one of the staff member's
//! [`MAX_MISSES_PER_STAFF`] a day at that hall, and of the hall's
//! [`MAX_MISSES_PER_HALL`] from all its staff together, in the statement that
//! counts it; a right code gives the try back in its check-in's batch, and
//! every wrong one is in the audit log. With 300 bookings a day, 30 guesses
//! hit one with a chance of about 0.9 %.

use shared::ApiResult;
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiError, ErrorCode};
use shared::store::{Db, Stmt, Value};

/// Wrong codes one staff member may type at one hall in a day: far above a
/// desk's honest typing slips, far below what guessing needs.
pub const MAX_MISSES_PER_STAFF: i64 = 30;

/// Wrong codes a hall takes in a day from all its staff, so several accounts
/// do not multiply the allowance.
pub const MAX_MISSES_PER_HALL: i64 = 100;

fn key(act: &Act<'_>, hall: &str) -> [Value; 3] {
    [act.who.token_id.as_str().into(), hall.into(), act.now.date().to_string().into()]
}

/// Takes a try (429 when the staff member's or the hall's tries of today are used up).
pub async fn take(db: &impl Db, act: &Act<'_>, hall: &str) -> ApiResult<()> {
    let [actor, hall_v, day] = key(act, hall);
    let took = db
        .query(
            "INSERT INTO checkin_code_misses (actor_id, hall_id, day, misses)
             SELECT ?1, ?2, ?3, 1
             WHERE (SELECT COALESCE(SUM(misses), 0) FROM checkin_code_misses WHERE hall_id = ?2 AND day = ?3) < ?5
             ON CONFLICT (actor_id, hall_id, day) DO UPDATE SET misses = misses + 1
             WHERE misses < ?4
               AND (SELECT COALESCE(SUM(misses), 0) FROM checkin_code_misses WHERE hall_id = ?2 AND day = ?3) < ?5
             RETURNING misses",
            &[actor, hall_v, day, MAX_MISSES_PER_STAFF.into(), MAX_MISSES_PER_HALL.into()],
        )
        .await?;
    if took.is_empty() {
        return Err(ApiError::with_message(
            ErrorCode::RateLimited,
            "今日在本大厅输错签到码的次数过多，已暂停签到码核验，请明日再试或请大厅负责人核实",
        ));
    }
    Ok(())
}

/// Gives a try back (the code was right): one statement, for the check-in's batch.
pub fn give_back(act: &Act<'_>, hall: &str) -> Stmt {
    Stmt::new(
        "UPDATE checkin_code_misses SET misses = misses - 1 WHERE actor_id = ?1 AND hall_id = ?2 AND day = ?3 AND misses > 0",
        key(act, hall).to_vec(),
    )
}

/// Records a wrong code in the audit log (the try stays taken); `target` is
/// the booking tried, or the hall when no booking has that code.
pub async fn missed(db: &impl Db, act: &Act<'_>, hall: &str, target: &str) -> ApiResult<()> {
    let detail = serde_json::json!({ "hall_id": hall });
    db.batch(&[audit_stmt(act.who, "appointment.check_in_miss", target, act.request_id, act.now, &detail)]).await?;
    Ok(())
}
