//! The life of a subsidy claim: a typed state machine. A claim moves only along allowed
//! transitions: no payment before the county's approval and the 7-day public notice.
//!
//! ```text
//! needs_verification ──verify──▶ decided   (a fact its payee declared, checked by the county)
//!    └──reject──▶ rejected
//! decided ──approve──▶ approved ──publish──▶ on_notice ──include──▶ in_batch ──pay──▶ paid
//!    │                    │                     │                     ▲             │
//!    └──reject──▶ rejected ◀──reject────────────┘ (objection upheld)  │             fail
//!                                                                     └──reissue── payment_failed
//! decided ──approve (outcome recover)──▶ recovery_due ──recover──▶ recovered
//! paid ──reclaim (a confirmed fraud finding, S12)──▶ recovery_due
//! ```

use crate::Invalid;
use serde::{Deserialize, Serialize};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// 待核实: decided, but it rests on a fact declared (not from an authority's register); the
    /// county verifies the fact before the claim can be reviewed.
    NeedsVerification,
    /// 待审核: decided by the policy engine; the county office reviews.
    Decided,
    /// 已审核待公示: approved by the county; to be published.
    Approved,
    /// 不予补贴: rejected by the county (or an objection was upheld).
    Rejected,
    /// 公示中: on the 7-day public notice.
    OnNotice,
    /// 拨付中: in a payment batch awaiting finance.
    InBatch,
    /// 已拨付: paid.
    Paid,
    /// 拨付失败: the payment failed; can be re-issued.
    PaymentFailed,
    /// 待追回: a settlement below the advance; the excess is to be recovered.
    RecoveryDue,
    /// 已追回: recovered.
    Recovered,
}

/// What someone does to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimAction {
    /// 核实 (county office): the declared facts a held claim rests on are verified.
    Verify,
    /// 审核通过 (county office).
    Approve,
    /// 不予补贴 (county office, or an upheld objection), with a reason.
    Reject,
    /// 公示 (county office): starts the 7-day notice.
    Publish,
    /// 纳入拨付批次 (finance): only after the notice ended with no open objection.
    Include,
    /// 拨付 (finance approves the batch).
    Pay,
    /// 拨付失败 (finance records a failed payment).
    Fail,
    /// 重新拨付 (finance re-issues a failed payment in a new batch).
    Reissue,
    /// 登记追回 (finance records the recovered sum).
    Recover,
    /// 追回 (city admin): a confirmed fraud finding touches a paid claim; its sum is to be
    /// recovered (S12).
    Reclaim,
}

impl ClaimStatus {
    /// Every status.
    pub const ALL: [ClaimStatus; 10] = [
        ClaimStatus::NeedsVerification,
        ClaimStatus::Decided,
        ClaimStatus::Approved,
        ClaimStatus::Rejected,
        ClaimStatus::OnNotice,
        ClaimStatus::InBatch,
        ClaimStatus::Paid,
        ClaimStatus::PaymentFailed,
        ClaimStatus::RecoveryDue,
        ClaimStatus::Recovered,
    ];

    /// Code as stored.
    pub fn code(self) -> &'static str {
        match self {
            ClaimStatus::NeedsVerification => "needs_verification",
            ClaimStatus::Decided => "decided",
            ClaimStatus::Approved => "approved",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::OnNotice => "on_notice",
            ClaimStatus::InBatch => "in_batch",
            ClaimStatus::Paid => "paid",
            ClaimStatus::PaymentFailed => "payment_failed",
            ClaimStatus::RecoveryDue => "recovery_due",
            ClaimStatus::Recovered => "recovered",
        }
    }

    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            ClaimStatus::NeedsVerification => "待核实",
            ClaimStatus::Decided => "待审核",
            ClaimStatus::Approved => "已审核待公示",
            ClaimStatus::Rejected => "不予补贴",
            ClaimStatus::OnNotice => "公示中",
            ClaimStatus::InBatch => "拨付中",
            ClaimStatus::Paid => "已拨付",
            ClaimStatus::PaymentFailed => "拨付失败",
            ClaimStatus::RecoveryDue => "待追回",
            ClaimStatus::Recovered => "已追回",
        }
    }

    /// English label.
    pub fn en(self) -> &'static str {
        match self {
            ClaimStatus::NeedsVerification => "held: a declared fact awaits verification",
            ClaimStatus::Decided => "awaiting review",
            ClaimStatus::Approved => "approved, to be published",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::OnNotice => "on public notice",
            ClaimStatus::InBatch => "in a payment batch",
            ClaimStatus::Paid => "paid",
            ClaimStatus::PaymentFailed => "payment failed",
            ClaimStatus::RecoveryDue => "recovery due",
            ClaimStatus::Recovered => "recovered",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<ClaimStatus> {
        ClaimStatus::ALL.into_iter().find(|c| c.code() == s)
    }

    /// The status after `action`, or why it is not allowed. `recover` says whether the claim's
    /// decision is a recovery (a settlement below the advance): its approval makes it due for
    /// recovery instead of publishing it for payment.
    pub fn apply(self, action: ClaimAction, recover: bool) -> Result<ClaimStatus, Invalid> {
        use ClaimAction::*;
        use ClaimStatus::*;
        match (self, action) {
            (Decided, Approve) if recover => Ok(RecoveryDue),
            (Decided, Approve) => Ok(Approved),
            (NeedsVerification, Verify) => Ok(Decided),
            (NeedsVerification | Decided | Approved | OnNotice, Reject) => Ok(Rejected),
            (Approved, Publish) => Ok(OnNotice),
            (OnNotice, Include) | (PaymentFailed, Reissue) => Ok(InBatch),
            (InBatch, Pay) => Ok(Paid),
            (InBatch | Paid, Fail) => Ok(PaymentFailed),
            (RecoveryDue, Recover) => Ok(Recovered),
            (Paid, Reclaim) => Ok(RecoveryDue),
            (from, action) => Err(Invalid::new(
                "claim.transition",
                format!("{}的申请不能{}", from.zh(), action.zh()),
                format!("a claim that is {} cannot be {}", from.en(), action.en()),
            )),
        }
    }
}

impl ClaimAction {
    /// Every action.
    pub const ALL: [ClaimAction; 10] = [
        ClaimAction::Verify,
        ClaimAction::Approve,
        ClaimAction::Reject,
        ClaimAction::Publish,
        ClaimAction::Include,
        ClaimAction::Pay,
        ClaimAction::Fail,
        ClaimAction::Reissue,
        ClaimAction::Recover,
        ClaimAction::Reclaim,
    ];

    /// The snake_case code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            ClaimAction::Verify => "verify",
            ClaimAction::Approve => "approve",
            ClaimAction::Reject => "reject",
            ClaimAction::Publish => "publish",
            ClaimAction::Include => "include",
            ClaimAction::Pay => "pay",
            ClaimAction::Fail => "fail",
            ClaimAction::Reissue => "reissue",
            ClaimAction::Recover => "recover",
            ClaimAction::Reclaim => "reclaim",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<ClaimAction> {
        ClaimAction::ALL.into_iter().find(|c| c.code() == s)
    }

    /// Chinese verb.
    pub fn zh(self) -> &'static str {
        match self {
            ClaimAction::Verify => "核实",
            ClaimAction::Approve => "审核通过",
            ClaimAction::Reject => "不予补贴",
            ClaimAction::Publish => "公示",
            ClaimAction::Include => "纳入拨付批次",
            ClaimAction::Pay => "拨付",
            ClaimAction::Fail => "登记拨付失败",
            ClaimAction::Reissue => "重新拨付",
            ClaimAction::Recover => "登记追回",
            ClaimAction::Reclaim => "因疑点确认追回",
        }
    }

    /// English participle.
    pub fn en(self) -> &'static str {
        match self {
            ClaimAction::Verify => "verified",
            ClaimAction::Approve => "approved",
            ClaimAction::Reject => "rejected",
            ClaimAction::Publish => "published",
            ClaimAction::Include => "put in a payment batch",
            ClaimAction::Pay => "paid",
            ClaimAction::Fail => "marked as failed",
            ClaimAction::Reissue => "re-issued",
            ClaimAction::Recover => "recovered",
            ClaimAction::Reclaim => "reclaimed after a confirmed finding",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClaimAction::{self, *};
    use super::ClaimStatus::{self, *};

    #[test]
    fn a_claim_is_paid_only_after_approval_and_notice() {
        let path = [(Approve, Approved), (Publish, OnNotice), (Include, InBatch), (Pay, Paid)];
        let mut s = Decided;
        for (action, to) in path {
            s = s.apply(action, false).unwrap();
            assert_eq!(s, to);
        }
        // No shortcut to payment from any status before the notice.
        for from in [Decided, Approved, Rejected] {
            for action in [Include, Pay] {
                assert_eq!(from.apply(action, false).unwrap_err().code, "claim.transition", "{from:?} {action:?}");
            }
        }
        assert!(Decided.apply(Publish, false).is_err());
        assert!(Rejected.apply(Approve, false).is_err());
        assert!(Paid.apply(Pay, false).is_err());
    }

    #[test]
    fn failed_payments_are_reissued_and_recoveries_recorded() {
        assert_eq!(InBatch.apply(Fail, false).unwrap(), PaymentFailed);
        assert_eq!(Paid.apply(Fail, false).unwrap(), PaymentFailed);
        assert_eq!(PaymentFailed.apply(Reissue, false).unwrap(), InBatch);
        assert_eq!(Decided.apply(Approve, true).unwrap(), RecoveryDue);
        assert_eq!(RecoveryDue.apply(Recover, true).unwrap(), Recovered);
        assert!(RecoveryDue.apply(Publish, true).is_err());
        assert!(Recovered.apply(Recover, true).is_err());
    }

    #[test]
    fn a_held_claim_is_verified_before_anything_else_but_rejection() {
        assert_eq!(NeedsVerification.apply(Verify, false).unwrap(), Decided);
        assert_eq!(NeedsVerification.apply(Reject, false).unwrap(), Rejected);
        for action in [Approve, Publish, Include, Pay, Recover] {
            assert!(NeedsVerification.apply(action, false).is_err(), "{action:?}");
            assert!(NeedsVerification.apply(action, true).is_err(), "{action:?}");
        }
        for from in [Decided, Approved, OnNotice, Paid] {
            assert!(from.apply(Verify, false).is_err(), "{from:?}");
        }
    }

    #[test]
    fn every_code_parses_back() {
        for s in ClaimStatus::ALL {
            assert_eq!(ClaimStatus::parse(s.code()), Some(s));
        }
        for a in ClaimAction::ALL {
            assert_eq!(ClaimAction::parse(a.code()), Some(a));
        }
    }
}
