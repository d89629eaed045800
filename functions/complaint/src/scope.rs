//! Which cases a staff member works on (issue 15, item 11).
//!
//! The 12345 centre's dispatchers (`complaint_dispatcher`, 派单) see every
//! case and hand it to a department; a department's handlers
//! (`complaint_handler`) see and act only on the cases handed to the
//! departments their token serves (`admin_token_departments`, granted by
//! `scripts/admin-token create --department`). Auditors read the list.

use shared::admin::{Principal, Role};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::store::{Db, Stmt, Value};

/// The cases a staff member may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every case: dispatchers, and auditors reading the list.
    City,
    /// The cases now with one of these departments.
    Departments(Vec<String>),
}

impl Scope {
    /// Whether a case now with `department` is in scope. A case no
    /// dispatcher has handed on yet belongs to no department.
    pub fn allows(&self, department: Option<&str>) -> bool {
        match self {
            Self::City => true,
            Self::Departments(ds) => department.is_some_and(|d| ds.iter().any(|x| x == d)),
        }
    }

    /// 403 unless a case now with `department` is in scope.
    pub fn check(&self, department: Option<&str>) -> ApiResult<()> {
        if self.allows(department) {
            Ok(())
        } else {
            Err(ApiError::with_message(ErrorCode::Forbidden, "此件不在您所在部门的办理范围内"))
        }
    }

    /// The list's filter: an SQL condition on `department` and its
    /// parameters, numbered from `?{first}`.
    pub fn filter(&self, first: usize) -> (String, Vec<Value>) {
        match self {
            Self::City => ("1 = 1".to_owned(), vec![]),
            Self::Departments(ds) if ds.is_empty() => ("0 = 1".to_owned(), vec![]),
            Self::Departments(ds) => {
                let marks: Vec<String> = (0..ds.len()).map(|i| format!("?{}", first + i)).collect();
                (format!("department IN ({})", marks.join(", ")), ds.iter().map(|d| d.as_str().into()).collect())
            }
        }
    }
}

/// Whom a scope is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reading the list (auditors too).
    List,
    /// Reading a case, its photos, taking a step.
    Work,
}

/// The scope of `who`: the city for a dispatcher (and an auditor's list),
/// the token's departments for a handler; 403 for anyone else.
pub async fn of(db: &impl Db, who: &Principal, need: Need) -> ApiResult<Scope> {
    let city: &[Role] = match need {
        Need::List => &[Role::ComplaintDispatcher, Role::Auditor],
        Need::Work => &[Role::ComplaintDispatcher],
    };
    if city.iter().any(|r| who.roles.contains(r)) {
        return Ok(Scope::City);
    }
    let mut roles = city.to_vec();
    roles.push(Role::ComplaintHandler);
    who.require_any(&roles)?;
    Ok(Scope::Departments(shared::admin::departments(db, who).await?))
}

/// A token's departments, as `scripts/admin-token create --department` grants them.
pub fn grant_stmts(token_id: &str, departments: &[&str]) -> Vec<Stmt> {
    departments
        .iter()
        .map(|d| {
            Stmt::new(
                "INSERT OR IGNORE INTO admin_token_departments (token_id, department) VALUES (?1, ?2)",
                vec![token_id.into(), (*d).into()],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_sees_its_own_cases_only_and_none_not_yet_handed_on() {
        let s = Scope::Departments(vec!["供水公司".into(), "城管局".into()]);
        assert!(s.allows(Some("供水公司")));
        assert!(!s.allows(Some("供水")));
        assert!(!s.allows(Some("交通局")));
        assert!(!s.allows(None));
        assert!(Scope::City.allows(None));
    }

    #[test]
    fn the_filter_names_each_department_once_and_an_empty_scope_matches_nothing() {
        let (sql, args) = Scope::Departments(vec!["甲".into(), "乙".into()]).filter(3);
        assert_eq!(sql, "department IN (?3, ?4)");
        assert_eq!(args.len(), 2);
        assert_eq!(Scope::Departments(vec![]).filter(1).0, "0 = 1");
        assert_eq!(Scope::City.filter(1).0, "1 = 1");
    }
}
