//! What a confirmed fraud finding stops (S12): the claims it touches — the claim itself, its
//! certificate, its person, its provider or employer, or the class its certificate came from —
//! are neither approved, published nor paid while it stands. The review, the payments and the
//! work queues read [`BLOCKED`]; the checks record what each finding touches (`finding_link`).

use crate::{with_pool, Db, Result, StoreError};
use jineng_domain::Invalid;

/// SQL condition: finding link `k` touches claim `c` — the claim itself, its certificate, its
/// person, its provider or employer, or the class its certificate came from.
macro_rules! touches {
    () => {
        "((k.kind = 'claim' AND k.ref_id = c.claim_id) \
         OR (k.kind = 'certificate' AND k.ref_id = c.certificate_id) OR (k.kind = 'person' AND k.ref_id = c.person_id) \
         OR (k.kind = 'provider' AND k.ref_id = c.provider_id) OR (k.kind = 'employer' AND k.ref_id = c.employer_id) \
         OR (k.kind = 'class' AND EXISTS (SELECT 1 FROM certificate ce JOIN assessment a ON a.assessment_id = ce.assessment_id \
             JOIN enrolment e ON e.enrolment_id = a.enrolment_id WHERE ce.certificate_id = c.certificate_id AND e.class_id = k.ref_id)))"
    };
}

/// SQL condition on a claim `c`: a confirmed finding touches it. Such a claim is neither
/// approved, published nor paid (S12) while the finding stands.
pub const BLOCKED: &str = concat!(
    "EXISTS (SELECT 1 FROM finding_link k JOIN finding f ON f.finding_id = k.finding_id WHERE f.status = 'confirmed' AND ",
    touches!(),
    ")"
);

/// The confirmed findings that block claim `claim_id` (empty: none).
pub async fn blocking(db: &Db, claim_id: i64) -> Result<Vec<i64>> {
    const SQL: &str = concat!(
        "SELECT DISTINCT f.finding_id FROM finding f JOIN finding_link k ON k.finding_id = f.finding_id \
         JOIN claim c ON c.claim_id = $1 WHERE f.status = 'confirmed' AND ",
        touches!(),
        " ORDER BY f.finding_id"
    );
    Ok(with_pool!(db, |p| sqlx::query_scalar(SQL).bind(claim_id).fetch_all(p).await?))
}

/// The claims a finding touches, with their status and amount (for the finding's page and
/// for opening recoveries).
pub async fn touched_claims(db: &Db, finding_id: i64) -> Result<Vec<(i64, String, i64)>> {
    const SQL: &str = concat!(
        "SELECT DISTINCT c.claim_id, c.status, c.amount_fen FROM finding_link k JOIN claim c ON ",
        touches!(),
        " WHERE k.finding_id = $1 ORDER BY c.claim_id"
    );
    Ok(with_pool!(db, |p| sqlx::query_as(SQL).bind(finding_id).fetch_all(p).await?))
}

/// The refusal of a move of a claim a confirmed finding blocks.
pub fn blocked_error(findings: &[i64]) -> StoreError {
    let list = findings.iter().map(i64::to_string).collect::<Vec<_>>().join("、");
    StoreError::invalid(
        "status",
        Invalid::new(
            "claim.blocked",
            format!("该申请涉及已确认的疑点线索（第 {list} 号），暂停审核、公示和拨付"),
            format!("a confirmed finding ({list}) touches this claim: it is not reviewed, published or paid"),
        ),
    )
}
