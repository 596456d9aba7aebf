//! The life of a class (开班): a typed state machine. A class moves only along allowed
//! transitions; everything else is refused with a reason.

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// Where a class stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassStatus {
    /// 已申请: the provider applied; the county office reviews.
    Submitted,
    /// 已退回: returned to the provider with a reason.
    Returned,
    /// 已批准: approved; training runs and completions count.
    Approved,
    /// 已结班: closed.
    Closed,
}

/// What someone does to a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassAction {
    /// 批准 (county office).
    Approve,
    /// 退回 (county office), with a reason.
    Return,
    /// 重新提交 (provider).
    Resubmit,
    /// 结班.
    Close,
}

impl ClassStatus {
    /// Code as stored.
    pub fn code(self) -> &'static str {
        match self {
            ClassStatus::Submitted => "submitted",
            ClassStatus::Returned => "returned",
            ClassStatus::Approved => "approved",
            ClassStatus::Closed => "closed",
        }
    }

    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            ClassStatus::Submitted => "已申请待审核",
            ClassStatus::Returned => "已退回",
            ClassStatus::Approved => "已批准",
            ClassStatus::Closed => "已结班",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<ClassStatus> {
        [ClassStatus::Submitted, ClassStatus::Returned, ClassStatus::Approved, ClassStatus::Closed]
            .into_iter()
            .find(|c| c.code() == s)
    }

    /// The status after `action`, or why it is not allowed.
    pub fn apply(self, action: ClassAction) -> Result<ClassStatus, Invalid> {
        use ClassAction::*;
        use ClassStatus::*;
        match (self, action) {
            (Submitted, Approve) => Ok(Approved),
            (Submitted, Return) => Ok(Returned),
            (Returned, Resubmit) => Ok(Submitted),
            (Approved, Close) => Ok(Closed),
            (from, action) => Err(Invalid::new(
                "class.transition",
                format!("{}的培训班不能{}", from.zh(), action.zh()),
                format!("a class that is {} cannot be {}", from.code(), action.en()),
            )),
        }
    }
}

impl ClassAction {
    /// Chinese verb.
    pub fn zh(self) -> &'static str {
        match self {
            ClassAction::Approve => "批准",
            ClassAction::Return => "退回",
            ClassAction::Resubmit => "重新提交",
            ClassAction::Close => "结班",
        }
    }

    /// English participle.
    pub fn en(self) -> &'static str {
        match self {
            ClassAction::Approve => "approved",
            ClassAction::Return => "returned",
            ClassAction::Resubmit => "resubmitted",
            ClassAction::Close => "closed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClassAction::*;
    use super::ClassStatus::*;

    #[test]
    fn a_class_moves_only_along_allowed_transitions() {
        assert_eq!(Submitted.apply(Approve).unwrap(), Approved);
        assert_eq!(Submitted.apply(Return).unwrap(), Returned);
        assert_eq!(Returned.apply(Resubmit).unwrap(), Submitted);
        assert_eq!(Approved.apply(Close).unwrap(), Closed);
        for (from, action) in [
            (Returned, Approve),
            (Approved, Approve),
            (Approved, Return),
            (Closed, Approve),
            (Submitted, Close),
            (Closed, Resubmit),
        ] {
            let e = from.apply(action).unwrap_err();
            assert_eq!(e.code, "class.transition", "{from:?} {action:?}");
        }
    }
}
