//! A staff account as the rules see it: its user name, its state, what a
//! staff administrator may give it (roles and scope), checked without
//! storage.

use serde::{Deserialize, Serialize};
use shared::admin::Role;
use shared::error::FieldError;

shared::text_enum! {
    /// Where an account stands.
    pub enum State {
        /// Created; its holder has not yet set a password and a second factor.
        Enrolling => "enrolling",
        Active => "active",
        /// Stopped by a staff administrator: no sign-in, no session.
        Disabled => "disabled",
    }
}

/// A user name: 3-32 of `a-z 0-9 . _ -`, starting with a letter, kept in
/// lower case (so `ZhangSan` and `zhangsan` are one account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Username(String);

impl Username {
    /// Checks and lower-cases a user name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let u = raw.trim().to_ascii_lowercase();
        let ok_chars = u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let starts = u.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        if (3..=32).contains(&u.len()) && ok_chars && starts {
            Ok(Self(u))
        } else {
            Err(FieldError::new("username", "用户名应为3-32位小写字母、数字、点、下划线或连字符，以字母开头"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a staff administrator gives an account: roles and the halls and
/// departments it serves.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub roles: Vec<Role>,
    #[serde(default)]
    pub halls: Vec<String>,
    #[serde(default)]
    pub departments: Vec<String>,
}

/// The most halls or departments one account serves.
pub const MAX_SCOPES: usize = 50;

/// The problems with a grant. 三员分立: a staff administrator is never
/// also an auditor (who administers accounts does not audit them), and no
/// one changes their own grant.
pub fn check_grant(g: &Grant, granter: &str, account: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if g.roles.is_empty() {
        errs.push(FieldError::new("roles", "请至少选择一个角色"));
    }
    if g.roles.contains(&Role::StaffAdmin) && g.roles.contains(&Role::Auditor) {
        errs.push(FieldError::new("roles", "三员分立：系统管理员与审计员不能由同一人担任"));
    }
    if g.roles.iter().any(|r| is_guarded(*r)) {
        errs.push(FieldError::new("roles", "系统管理员和审计员账户由部署人员用 scripts/staff 创建，不能在后台授予"));
    }
    if granter == account {
        errs.push(FieldError::new("roles", "不能修改自己的角色和范围，请由其他系统管理员办理"));
    }
    for (field, list) in [("halls", &g.halls), ("departments", &g.departments)] {
        if list.len() > MAX_SCOPES {
            errs.push(FieldError::new(field, format!("最多{MAX_SCOPES}项")));
        }
        if list.iter().any(|x| x.trim().is_empty() || x.chars().count() > 50 || x.chars().any(char::is_control)) {
            errs.push(FieldError::new(field, "每项应为1-50个字符"));
        }
    }
    errs
}

/// Roles the console cannot give, take or reset (三员分立): an
/// administrator who could make an auditor, or take over another
/// administrator, would audit or administer themself. `scripts/staff`
/// (deployment access) creates these accounts.
pub fn is_guarded(r: Role) -> bool {
    matches!(r, Role::StaffAdmin | Role::Auditor)
}

/// A display name: 1-30 characters, no control characters.
pub fn check_display_name(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim();
    if (1..=30).contains(&n.chars().count()) && !n.chars().any(char::is_control) {
        Ok(n.to_owned())
    } else {
        Err(FieldError::new("display_name", "姓名应为1-30个字符"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_lower_case_ascii_starting_with_a_letter() {
        assert_eq!(Username::parse(" ZhangSan ").unwrap().as_str(), "zhangsan");
        for bad in ["ab", "1abc", "张三", "a b c", "a;drop", &"a".repeat(33)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_administrator_is_never_an_auditor_and_never_grants_themself() {
        let both = Grant { roles: vec![Role::StaffAdmin, Role::Auditor], ..Grant::default() };
        assert_eq!(check_grant(&both, "a", "b").len(), 2, "both, and neither can be given here");
        let auditor = Grant { roles: vec![Role::Auditor], ..Grant::default() };
        assert_eq!(check_grant(&auditor, "a", "b").len(), 1);
        let fine = Grant { roles: vec![Role::HallStaff], halls: vec!["H001".into()], ..Grant::default() };
        assert!(check_grant(&fine, "a", "b").is_empty());
        assert_eq!(check_grant(&fine, "a", "a").len(), 1);
        assert_eq!(check_grant(&Grant::default(), "a", "b").len(), 1);
    }
}
