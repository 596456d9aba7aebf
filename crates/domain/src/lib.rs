//! Pure domain types of jineng: no I/O, no database, no HTTP.
//!
//! Everything that comes from outside the process is parsed into one of these types at the
//! boundary (`IdNumber::parse`, `CreditCode::parse`, …); the rest of the system only sees
//! values that are known to be valid.

pub mod area;
pub mod claim_kind;
pub mod claim_status;
pub mod class_status;
pub mod credit_code;
pub mod group;
pub mod id_number;
mod invalid;
pub mod kind;
pub mod level;
pub mod money;
pub mod name;
pub mod password;
pub mod phone;
pub mod plan;
pub mod role;

pub use area::AreaCode;
pub use claim_kind::ClaimKind;
pub use claim_status::{ClaimAction, ClaimStatus};
pub use class_status::{ClassAction, ClassStatus};
pub use credit_code::CreditCode;
pub use group::{GroupMembership, PriorityGroup};
pub use id_number::{IdNumber, Sex};
pub use invalid::Invalid;
pub use kind::TrainingKind;
pub use level::SkillLevel;
pub use money::Money;
pub use plan::{Plan, TargetValue};
pub use role::Role;
