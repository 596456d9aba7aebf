//! The roles of users.

use serde::{Deserialize, Serialize};

/// What a user is in the system, deciding which routes they may use; the user's scope then
/// says which county, department, provider, body or person they act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 市人社局管理员: everything.
    CityAdmin,
    /// 责任单位: its programs; scope = department code.
    Department,
    /// 县区人社局: its county; scope = county code.
    County,
    /// 财政局: funds and payments.
    Finance,
    /// 培训机构: its own classes and trainees; scope = provider id.
    Provider,
    /// 评价机构: its own assessments; scope = assessment body id.
    AssessmentBody,
    /// 审计局: read-only everything.
    Auditor,
    /// 劳动者: their own record; scope = person id.
    Worker,
    /// 用人单位: its own claims (on-the-job, pre-job, apprenticeship, equipment); scope = employer id.
    Employer,
}

impl Role {
    /// Every role.
    pub const ALL: &'static [Role] = &[
        Role::CityAdmin,
        Role::Department,
        Role::County,
        Role::Finance,
        Role::Provider,
        Role::AssessmentBody,
        Role::Auditor,
        Role::Worker,
        Role::Employer,
    ];

    /// Code as stored.
    pub fn code(self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::Department => "department",
            Role::County => "county",
            Role::Finance => "finance",
            Role::Provider => "provider",
            Role::AssessmentBody => "assessment_body",
            Role::Auditor => "auditor",
            Role::Worker => "worker",
            Role::Employer => "employer",
        }
    }

    /// Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Role::CityAdmin => "市人社局管理员",
            Role::Department => "责任单位",
            Role::County => "县区人社局",
            Role::Finance => "财政局",
            Role::Provider => "培训机构",
            Role::AssessmentBody => "评价机构",
            Role::Auditor => "审计局",
            Role::Worker => "劳动者",
            Role::Employer => "用人单位",
        }
    }

    /// English name.
    pub fn en(self) -> &'static str {
        match self {
            Role::CityAdmin => "City HR admin",
            Role::Department => "Responsible department",
            Role::County => "County HR office",
            Role::Finance => "Finance bureau",
            Role::Provider => "Training provider",
            Role::AssessmentBody => "Assessment body",
            Role::Auditor => "Auditor",
            Role::Worker => "Worker",
            Role::Employer => "Employer",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.code() == s)
    }

    /// Whether this role needs a scope value.
    pub fn needs_scope(self) -> bool {
        matches!(
            self,
            Role::Department | Role::County | Role::Provider | Role::AssessmentBody | Role::Worker | Role::Employer
        )
    }
}
