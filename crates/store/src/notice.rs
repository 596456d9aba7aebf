//! The 7-day public notice (公示) of approved claims and the public's objections to them: an
//! upheld objection rejects the claim, an open one keeps it from payment.

use crate::audit;
use crate::claims::ClaimScope;
use crate::review::{move_claim, refuse, state};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{ClaimAction, ClaimStatus, Invalid};
use serde::Serialize;

pub use crate::review::NOTICE_DAYS;

/// An objection to a claim on notice.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ObjectionRow {
    pub objection_id: i64,
    pub claim_id: i64,
    /// Who objected (as given).
    pub filer_name: String,
    /// How to reach them (shown to reviewers only).
    pub contact: String,
    pub reason: String,
    /// `open`, `upheld`, `dismissed`.
    pub status: String,
    /// Filed at.
    pub filed_at: chrono::DateTime<chrono::Utc>,
    pub resolution: Option<String>,
}

/// A contact the county can use: a phone number (7 to 15 digits, with `+`, `-`, spaces or
/// brackets between) or an e-mail address (`name@domain.tld`, no spaces).
pub fn is_contact(contact: &str) -> bool {
    let c = contact.trim();
    let digits = c.chars().filter(char::is_ascii_digit).count();
    let phone = (7..=15).contains(&digits)
        && c.chars().all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '-' | ' ' | '(' | ')'));
    let email = match c.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !c.chars().any(char::is_whitespace)
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
        }
        None => false,
    };
    phone || email
}

/// The contact as objections are told apart by: spaces, dashes, dots between digits and
/// brackets dropped, letters lower case, a `+86`/`0086` prefix of a mobile number dropped.
pub fn contact_key(contact: &str) -> String {
    let mut k: String = contact
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '（' | '）'))
        .flat_map(char::to_lowercase)
        .collect();
    if !k.contains('@') {
        for prefix in ["+86", "0086"] {
            if let Some(rest) = k.strip_prefix(prefix) {
                k = rest.to_owned();
            }
        }
    }
    k
}

/// Files an objection to a claim on notice (anyone may, during the notice period). A second
/// objection from the same contact while the first is open is the first (its id is returned).
pub async fn object(
    db: &Db,
    claim_id: i64,
    filer_name: &str,
    contact: &str,
    reason: &str,
    today: NaiveDate,
) -> Result<i64> {
    let (status, s) = state(db, &ClaimScope::default(), claim_id).await?;
    if status != ClaimStatus::OnNotice || s.notice_until.is_some_and(|u| today > u) {
        return Err(refuse(
            "objection.closed",
            "该申请不在公示期内，不能提出异议",
            "the claim is not on public notice",
        ));
    }
    let mut errors = Vec::new();
    for (field, v, max) in [("filer_name", filer_name, 50), ("contact", contact, 100), ("reason", reason, 2000)] {
        let n = v.trim().chars().count();
        if n == 0 || n > max {
            errors.push((
                field.to_owned(),
                Invalid::new(
                    "objection.field",
                    format!("必填，且不超过{max}字"),
                    format!("required, at most {max} characters"),
                ),
            ));
        }
    }
    if !errors.iter().any(|(f, _)| f == "contact") && !is_contact(contact) {
        errors.push((
            "contact".to_owned(),
            Invalid::new(
                "objection.contact",
                "请填写能联系到您的手机号、电话号码或电子邮箱",
                "give a phone number or an e-mail address where you can be reached",
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(StoreError::Rows(errors));
    }
    let t = now();
    Ok(in_tx!(db, |tx| {
        let key = contact_key(contact);
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO objection (claim_id, filer_name, contact, reason, status, filed_at, contact_key) VALUES ($1, $2, $3, $4, 'open', $5, $6) \
             ON CONFLICT (claim_id, contact_key) WHERE status = 'open' DO NOTHING RETURNING objection_id",
        )
        .bind(claim_id)
        .bind(filer_name.trim())
        .bind(contact.trim())
        .bind(reason.trim())
        .bind(t)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            let open: i64 = sqlx::query_scalar(
                "SELECT objection_id FROM objection WHERE claim_id = $1 AND contact_key = $2 AND status = 'open'",
            )
            .bind(claim_id)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
            return Ok(open);
        };
        audit::record(
            &mut *tx,
            None,
            "object",
            "claim",
            &claim_id.to_string(),
            &serde_json::json!({"objection_id": id}),
        )
        .await?;
        id
    }))
}

/// Objections to one claim.
pub async fn objections(db: &Db, claim_id: i64) -> Result<Vec<ObjectionRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT objection_id, claim_id, filer_name, contact, reason, status, filed_at, resolution FROM objection WHERE claim_id = $1 ORDER BY objection_id"
    )
    .bind(claim_id)
    .fetch_all(p)
    .await?
    }))
}

/// Resolves an open objection: upheld rejects the claim (in the same transaction), dismissed
/// leaves it on notice. A resolution text is required.
pub async fn resolve_objection(
    db: &Db,
    actor: i64,
    scope: &ClaimScope,
    objection_id: i64,
    uphold: bool,
    resolution: &str,
) -> Result<()> {
    let row: Option<(i64, String)> =
        with_pool!(db, |p| sqlx::query_as("SELECT claim_id, status FROM objection WHERE objection_id = $1")
            .bind(objection_id)
            .fetch_optional(p)
            .await?);
    let (claim_id, ostatus) = row.ok_or(StoreError::NotFound)?;
    let (from, _) = state(db, scope, claim_id).await?;
    if ostatus != "open" {
        return Err(refuse("objection.resolved", "该异议已处理", "the objection was resolved already"));
    }
    if resolution.trim().is_empty() {
        return Err(StoreError::invalid(
            "resolution",
            Invalid::new("objection.resolution", "须写明处理意见", "give the resolution"),
        ));
    }
    let to = if uphold {
        Some(from.apply(ClaimAction::Reject, false).map_err(|e| StoreError::invalid("status", e))?)
    } else {
        None
    };
    let t = now();
    in_tx!(db, |tx| {
        let n = sqlx::query(
            "UPDATE objection SET status = $1, resolution = $2, resolved_by = $3, resolved_at = $4 WHERE objection_id = $5 AND status = 'open'",
        )
        .bind(if uphold { "upheld" } else { "dismissed" })
        .bind(resolution.trim())
        .bind(actor)
        .bind(t)
        .bind(objection_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::conflict(
                "objection.changed",
                None,
                "该异议已被他人处理",
                "the objection was resolved meanwhile",
            ));
        }
        if let Some(to) = to {
            let why = format!("异议成立 objection upheld: {}", resolution.trim());
            move_claim!(tx, claim_id, from, to, ClaimAction::Reject, Some(actor), &why, t);
        }
        audit::record(
            &mut *tx,
            Some(actor),
            if uphold { "uphold_objection" } else { "dismiss_objection" },
            "claim",
            &claim_id.to_string(),
            &serde_json::json!({"objection_id": objection_id, "resolution": resolution.trim()}),
        )
        .await?;
    });
    Ok(())
}

/// A claim on public notice, as the public sees it: no ID number, the name partly masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeRow {
    /// Claim id (to object to).
    pub claim_id: i64,
    pub kind: String,
    /// Payee: a person's name masked (张*三), an organisation's name in full.
    pub payee: String,
    /// County name.
    pub county_name: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// First day of the notice.
    pub notice_from: NaiveDate,
    /// Last day.
    pub notice_until: NaiveDate,
}

/// `张三` → `张*`, `张小三` → `张*三`, `欧阳小三` → `欧**三`.
pub fn mask_name(name: &str) -> String {
    jineng_domain::name::mask(name)
}

/// Which claims on notice a page shows.
#[derive(Debug, Clone, Default)]
pub struct NoticeQuery {
    /// Only this county's.
    pub county: Option<String>,
    /// Only this claim (the page of one objection's form).
    pub claim: Option<i64>,
    /// The next page: the claims listed after this one.
    pub after: Option<i64>,
    /// Rows per page.
    pub limit: i64,
}

/// Claims on notice on `today`, newest notice first, one page (by keyset on
/// `claim_notice`: a page costs the same however many claims are on notice).
pub async fn notice(db: &Db, today: NaiveDate, q: &NoticeQuery) -> Result<crate::Page<NoticeRow>> {
    #[derive(sqlx::FromRow)]
    struct NoticeDb {
        claim_id: i64,
        kind: String,
        person_name: Option<String>,
        org_name: Option<String>,
        county_name: String,
        amount_fen: i64,
        notice_from: NaiveDate,
        notice_until: NaiveDate,
    }
    let county_is = crate::opt_eq("c.county_code", 2, q.county.as_deref().is_some_and(|c| !c.is_empty()), "''");
    let claim_is = crate::opt_eq("c.claim_id", 3, q.claim.is_some(), "0");
    let after_is = if q.after.is_some() {
        "(c.notice_from, c.claim_id) < ((SELECT notice_from FROM claim WHERE claim_id = $4), $4)"
    } else {
        "$4 = 0"
    };
    let sql = format!(
        "SELECT c.claim_id, c.kind, p.name AS person_name, COALESCE(e.name, v.name) AS org_name, k.name_zh AS county_name, c.amount_fen, \
         c.notice_from, c.notice_until FROM claim c JOIN county k ON k.county_code = c.county_code \
         LEFT JOIN person p ON p.person_id = c.person_id LEFT JOIN employer e ON e.employer_id = c.employer_id \
         LEFT JOIN provider v ON v.provider_id = c.provider_id \
         WHERE c.status = 'on_notice' AND c.notice_until >= $1 AND {county_is} AND {claim_is} AND {after_is} \
         ORDER BY c.notice_from DESC, c.claim_id DESC LIMIT $5"
    );
    let limit = q.limit.max(1);
    let rows: Vec<NoticeDb> = with_pool!(db, |p| {
        sqlx::query_as(&sql)
            .bind(today)
            .bind(q.county.clone().unwrap_or_default())
            .bind(q.claim.unwrap_or(0))
            .bind(q.after.unwrap_or(0))
            .bind(limit + 1)
            .fetch_all(p)
            .await?
    });
    let page = crate::Page::of(rows, limit, |r| r.claim_id);
    let rows = page
        .rows
        .into_iter()
        .map(|r| NoticeRow {
            claim_id: r.claim_id,
            kind: r.kind,
            payee: r.org_name.unwrap_or_else(|| mask_name(r.person_name.as_deref().unwrap_or(""))),
            county_name: r.county_name,
            amount_fen: r.amount_fen,
            notice_from: r.notice_from,
            notice_until: r.notice_until,
        })
        .collect();
    Ok(crate::Page { rows, next: page.next })
}

#[cfg(test)]
mod tests {
    use super::{is_contact, mask_name};

    #[test]
    fn names_are_partly_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("李小娜"), "李*娜");
        assert_eq!(mask_name("欧阳小三"), "欧**三");
        assert_eq!(mask_name("王"), "*");
    }

    #[test]
    fn a_contact_is_a_phone_number_or_an_e_mail_address() {
        for good in ["13700000000", "0396-1234567", "+86 137 0000 0000", "(0396) 1234567", "zhang@example.cn"] {
            assert!(is_contact(good), "{good}");
        }
        for bad in ["abc", "1", "123456", "a@b", "@example.cn", "zhang @example.cn", "1370000000000000000", "电话"] {
            assert!(!is_contact(bad), "{bad}");
        }
    }
}
