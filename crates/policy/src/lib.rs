//! The subsidy rules of the Zhumadian plan (and any plan with the same clauses) as code.
//!
//! A pure engine: a case (people, trainings, certificates, history, claims) in, decisions out;
//! no database. Every decision names the clauses that decided it, the reasons in Chinese and
//! English, and every parameter value used with the date it took effect and its source. The
//! case format is `docs/case-format.md`; how the rules map to the plan's clauses is
//! `docs/policy.md`.
//!
//! Build a [`Case`] as typed values (or [`parse`] JSON), [`check`] it, and decide it with an
//! [`Engine`]; [`claims_brought_by`] says which claims newly issued certificates bring.

pub mod brings;
pub mod case;
pub mod clauses;
pub mod decision;
pub mod engine;
pub mod params;
pub mod testing;

pub use brings::{claims_at_training_end, claims_brought_by, opening_facts, OpeningFact};
pub use case::{check, parse, BadInput, Case, Checked, Claim, ClaimKind};
pub use decision::{Decision, Outcome};
pub use engine::Engine;
pub use params::{Key, Params};

/// Parses and decides a case, returning the decisions as the contract's JSON value.
pub fn adjudicate(text: &str, params: &Params, region: &str) -> Result<serde_json::Value, BadInput> {
    let checked = parse(text)?;
    let decisions = Engine::new(params, region).decide(&checked);
    Ok(serde_json::json!({ "decisions": decisions }))
}
