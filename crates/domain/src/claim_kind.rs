//! Kinds of subsidy claim (补贴申请类型), with the codes of the case contract.

use crate::Invalid;
use serde::{Deserialize, Serialize};

macro_rules! claim_kinds {
    ($($variant:ident = $code:literal, $zh:literal, $en:literal, $clause:literal;)*) => {
        /// A kind of claim; serialised as its snake_case code (`training_subsidy`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ClaimKind { $(#[doc = $zh] $variant,)* }

        impl ClaimKind {
            /// Every kind, in a stable order.
            pub const ALL: &'static [ClaimKind] = &[$(ClaimKind::$variant,)*];

            /// The snake_case code, as stored and as in case files.
            pub fn code(self) -> &'static str { match self { $(ClaimKind::$variant => $code,)* } }
            /// Chinese label.
            pub fn zh(self) -> &'static str { match self { $(ClaimKind::$variant => $zh,)* } }
            /// English label.
            pub fn en(self) -> &'static str { match self { $(ClaimKind::$variant => $en,)* } }
            /// The clause that grants it (`docs/clauses.md`).
            pub fn clause(self) -> &'static str { match self { $(ClaimKind::$variant => $clause,)* } }

            /// Parses a snake_case code.
            pub fn parse(s: &str) -> Result<Self, Invalid> {
                match s.trim() {
                    $($code => Ok(ClaimKind::$variant),)*
                    other => Err(Invalid::new(
                        "claim_kind.unknown",
                        format!("未知的补贴类型“{other}”"),
                        format!("unknown claim kind '{other}'"),
                    )),
                }
            }
        }
    };
}

claim_kinds! {
    TrainingSubsidy = "training_subsidy", "职业培训补贴", "training subsidy", "S7";
    SkillUpgradeSubsidy = "skill_upgrade_subsidy", "技能提升补贴", "skill-upgrade subsidy", "S3";
    LivingAllowance = "living_allowance", "生活费补贴", "living allowance", "S2";
    PreJob = "pre_job", "岗前培训补贴", "pre-job training subsidy", "S3";
    OnTheJob = "on_the_job", "以工代训补贴", "on-the-job training subsidy", "S5";
    Apprenticeship = "apprenticeship", "新型学徒制培训补贴", "apprenticeship subsidy", "S4";
    EquipmentGrant = "equipment_grant", "设施设备补助", "equipment grant", "E1b";
    ProjectTraining = "project_training", "项目制培训补贴", "project-based training", "S9";
}

impl ClaimKind {
    /// Whether it is one of the two certificate subsidies (S7 counts them together).
    pub fn is_certificate_subsidy(self) -> bool {
        matches!(self, ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy)
    }
}

impl std::fmt::Display for ClaimKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for k in ClaimKind::ALL {
            assert_eq!(ClaimKind::parse(k.code()).unwrap(), *k);
        }
        assert_eq!(ClaimKind::parse("bonus").unwrap_err().code, "claim_kind.unknown");
    }

    #[test]
    fn the_serde_name_is_the_code() {
        for k in ClaimKind::ALL {
            let v: ClaimKind = serde::de::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                serde::de::value::Error,
            >::new(k.code()))
            .unwrap();
            assert_eq!(v, *k);
        }
        assert_eq!(ClaimKind::ALL.len(), 8);
        assert_eq!(ClaimKind::LivingAllowance.zh(), "生活费补贴");
        assert_eq!(ClaimKind::OnTheJob.en(), "on-the-job training subsidy");
    }
}
