//! Priority groups (重点群体 / 人员类别) and the periods a person belongs to them.

use crate::Invalid;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

macro_rules! groups {
    ($($variant:ident = $code:literal, $zh:literal, $en:literal;)*) => {
        /// A priority group, with the snake_case code of the case contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum PriorityGroup { $(#[doc = $zh] $variant,)* }

        impl PriorityGroup {
            /// Every group, in a stable order.
            pub const ALL: &'static [PriorityGroup] = &[$(PriorityGroup::$variant,)*];

            /// The snake_case code.
            pub fn code(self) -> &'static str { match self { $(PriorityGroup::$variant => $code,)* } }
            /// Chinese name.
            pub fn zh(self) -> &'static str { match self { $(PriorityGroup::$variant => $zh,)* } }
            /// English name.
            pub fn en(self) -> &'static str { match self { $(PriorityGroup::$variant => $en,)* } }

            /// Parses a snake_case code.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s.trim() {
                    $($code => Ok(PriorityGroup::$variant),)*
                    other => Err(Invalid::new(
                        "priority_group.unknown",
                        format!("未知的人员类别“{other}”"),
                        format!("unknown priority group '{other}'"),
                    )),
                }
            }
        }
    };
}

groups! {
    PoorWorker = "poor_worker", "贫困劳动力", "registered poor worker";
    PoorFamilyChild = "poor_family_child", "贫困家庭子女", "child of a poor family";
    SchoolLeaver = "school_leaver", "两后生", "school leaver not continuing";
    RuralMigrant = "rural_migrant", "农村转移就业劳动者", "rural migrant worker";
    LaidOff = "laid_off", "下岗失业人员", "laid-off worker";
    JobTransfer = "job_transfer", "转岗职工", "worker changing jobs";
    Veteran = "veteran", "退役军人", "veteran";
    Disabled = "disabled", "残疾人", "person with disability";
    CollegeGraduate = "college_graduate", "高校毕业生", "college graduate";
    Employee = "employee", "企业职工", "enterprise employee";
    HardToEmploy = "hard_to_employ", "就业困难人员", "hard-to-employ person";
    ZeroEmploymentFamily = "zero_employment_family", "零就业家庭成员", "zero-employment family member";
    UrbanDibao = "urban_dibao", "城市低保家庭成员", "urban minimum-income family member";
    RegisteredUnemployed = "registered_unemployed", "城镇登记失业人员", "registered unemployed";
    Inmate = "inmate", "服刑人员", "inmate";
}

/// Membership of one group over a period; `to = None` means still a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    /// The group.
    pub group: PriorityGroup,
    /// First day of membership.
    pub from: NaiveDate,
    /// Last day of membership, inclusive; `None` while ongoing.
    pub to: Option<NaiveDate>,
}

impl GroupMembership {
    /// Checks that the period is not reversed.
    pub fn new(group: PriorityGroup, from: NaiveDate, to: Option<NaiveDate>) -> Result<Self, Invalid> {
        if let Some(to) = to {
            if to < from {
                return Err(Invalid::new(
                    "priority_group.period",
                    "结束日期早于开始日期",
                    "the period ends before it starts",
                ));
            }
        }
        Ok(Self { group, from, to })
    }

    /// Whether the person belonged to the group on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn membership_covers_both_ends_of_its_period() {
        let m = GroupMembership::new(PriorityGroup::PoorWorker, d("2019-03-01"), Some(d("2020-12-31"))).unwrap();
        assert!(m.covers(d("2019-03-01")));
        assert!(m.covers(d("2020-12-31")));
        assert!(!m.covers(d("2021-01-01")));
        assert!(!m.covers(d("2019-02-28")));
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for g in PriorityGroup::ALL {
            assert_eq!(PriorityGroup::parse(g.code()).unwrap(), *g);
        }
        assert_eq!(PriorityGroup::parse("alien").unwrap_err().code, "priority_group.unknown");
        assert!(GroupMembership::new(PriorityGroup::Veteran, d("2020-01-02"), Some(d("2020-01-01"))).is_err());
    }
}
