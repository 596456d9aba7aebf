//! Kinds of training (培训类型).

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// A kind of training, with the codes of the case contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingKind {
    /// 就业技能培训 (the default)
    #[default]
    Employment,
    /// 岗位技能提升培训
    SkillUpgrade,
    /// 岗前培训
    PreJob,
    /// 安全技能培训
    Safety,
    /// 转岗转业培训
    JobTransfer,
    /// 创业培训
    Entrepreneurship,
    /// 新型学徒制
    Apprenticeship,
}

impl TrainingKind {
    /// Every kind.
    pub const ALL: &'static [TrainingKind] = &[
        TrainingKind::Employment,
        TrainingKind::SkillUpgrade,
        TrainingKind::PreJob,
        TrainingKind::Safety,
        TrainingKind::JobTransfer,
        TrainingKind::Entrepreneurship,
        TrainingKind::Apprenticeship,
    ];

    /// Code as stored.
    pub fn code(self) -> &'static str {
        match self {
            TrainingKind::Employment => "employment",
            TrainingKind::SkillUpgrade => "skill_upgrade",
            TrainingKind::PreJob => "pre_job",
            TrainingKind::Safety => "safety",
            TrainingKind::JobTransfer => "job_transfer",
            TrainingKind::Entrepreneurship => "entrepreneurship",
            TrainingKind::Apprenticeship => "apprenticeship",
        }
    }

    /// Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            TrainingKind::Employment => "就业技能培训",
            TrainingKind::SkillUpgrade => "岗位技能提升培训",
            TrainingKind::PreJob => "岗前培训",
            TrainingKind::Safety => "安全技能培训",
            TrainingKind::JobTransfer => "转岗转业培训",
            TrainingKind::Entrepreneurship => "创业培训",
            TrainingKind::Apprenticeship => "新型学徒制培训",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.iter().copied().find(|k| k.code() == s.trim()).ok_or_else(|| {
            Invalid::new(
                "training_kind.unknown",
                format!("未知的培训类型“{s}”"),
                format!("unknown training kind '{s}'"),
            )
        })
    }

    /// Whether this kind counts toward a program's skill-upgrade share (技能提升培训占比).
    ///
    /// We read 技能提升培训 as the national action plan does: on-the-job skill upgrading, job
    /// transfer, safety skills and apprenticeship; employment-skills, pre-job and
    /// entrepreneurship training do not count.
    pub fn is_skill_upgrade(self) -> bool {
        matches!(
            self,
            TrainingKind::SkillUpgrade
                | TrainingKind::JobTransfer
                | TrainingKind::Safety
                | TrainingKind::Apprenticeship
        )
    }
}
