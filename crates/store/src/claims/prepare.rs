//! The claims a certificate brings, prepared by the system: decided from each person's
//! history in one case and stored in one transaction per chunk; idempotent per certificate and
//! per training. Which claims (S3 before S7, the S9 exclusion, S2) is the policy crate's call.

use super::case::{case_of, certificate_ref, decide, training_ref};
use super::{
    employer_codes, employers_by_code, file_many, histories, hold, lock_people, EmployerFact, History, NewClaim,
};
use crate::audit::Actor;
use crate::{parameters, Db, Result, StoreError};
use jineng_domain::Invalid;
use jineng_policy::case::ClaimKind;
use jineng_policy::{Engine, Params};
use std::collections::{BTreeSet, HashMap};

/// Prepares and decides the claims that newly issued certificates bring; `certs` are
/// (person id, certificate id). Returns the number of new claims (a certificate already
/// prepared brings nothing new).
pub async fn for_certificates(db: &Db, actor: Actor, certs: &[(i64, i64)]) -> Result<usize> {
    for_certificates_with(db, actor, certs, &|_, _| {}).await
}

/// [`for_certificates`], calling `progress` with (people done, people in all) after each chunk
/// (a province's million certificates take minutes).
pub async fn for_certificates_with(
    db: &Db,
    actor: Actor,
    certs: &[(i64, i64)],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize> {
    let params = parameters::effective(db).await?;
    let region = parameters::region(db).await?;
    let mut by_person: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut order = Vec::new();
    for (p, c) in certs {
        let e = by_person.entry(*p).or_default();
        if e.is_empty() {
            order.push(*p);
        }
        e.push(*c);
    }
    let mut filed = 0;
    let mut analysed = 0;
    let mut done = 0;
    let (mut reading, mut deciding, mut storing) =
        (std::time::Duration::ZERO, std::time::Duration::ZERO, std::time::Duration::ZERO);
    for chunk in order.chunks(2000) {
        let t = std::time::Instant::now();
        // The chunk's people are locked while their histories are read and their claims decided
        // and stored: a concurrent decision for one of them waits, then sees these claims.
        let mut tx = db.begin().await?;
        lock_people(&mut tx, chunk).await?;
        let hs = histories(&mut tx, chunk).await?;
        // The employers the chunk refers to, read once; each case gets its own.
        let codes: BTreeSet<String> = hs.iter().flat_map(employer_codes).collect();
        let all_employers = employers_by_code(&mut tx, &codes.into_iter().collect::<Vec<_>>()).await?;
        reading += t.elapsed();
        let t = std::time::Instant::now();
        let mut out = Vec::with_capacity(chunk.len() * 2);
        for h in &hs {
            let codes = employer_codes(h);
            let employers: Vec<EmployerFact> =
                all_employers.iter().filter(|e| codes.contains(&e.credit_code)).cloned().collect();
            out.extend(claims_for_person(h, &employers, &by_person[&h.person.person_id], &params, &region)?);
        }
        deciding += t.elapsed();
        let t = std::time::Instant::now();
        filed += file_many(&mut tx, actor, &out).await?;
        tx.commit().await?;
        // A large filing can grow the claims many times over before the server's own
        // statistics catch up (or never, with autovacuum off): the planner would then scan every
        // claim to read a chunk's history. Fresh statistics each time the filing doubles.
        if filed >= analysed.max(25_000) * 2 {
            crate::with_pool!(db, |p| {
                sqlx::query("ANALYZE claim").execute(p).await?;
            });
            analysed = filed;
        }
        storing += t.elapsed();
        done += chunk.len();
        progress(done, order.len());
    }
    tracing::info!(certificates = certs.len(), filed, ?reading, ?deciding, ?storing, "claims prepared");
    Ok(filed)
}

/// A claim as it is stored: idempotency key, kind, certificate, case id, filing date, training.
type Keyed = (String, ClaimKind, Option<i64>, String, chrono::NaiveDate, Option<String>);

/// The decided claims that some certificates of one person bring.
fn claims_for_person(
    h: &History,
    employers: &[EmployerFact],
    cert_ids: &[i64],
    params: &Params,
    region: &str,
) -> Result<Vec<NewClaim>> {
    let mut case = case_of(&[h], employers, vec![], vec![])?;
    let refs: Vec<String> = cert_ids.iter().map(|&c| certificate_ref(c)).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let engine = Engine::new(params, region);
    let claims = jineng_policy::claims_brought_by(&engine, &case, &h.person.id_number, &refs).map_err(|e| {
        StoreError::invalid("case", Invalid::new("case.invalid", format!("登记信息不完整：{e}"), e.to_string()))
    })?;
    if claims.is_empty() {
        return Ok(vec![]);
    }
    // What each claim is stored as: its idempotency key and certificate.
    let keyed: Vec<Keyed> = claims
        .iter()
        .map(|c| {
            let cert = c.certificate.as_deref().and_then(|s| s.strip_prefix('c')).and_then(|s| s.parse().ok());
            let key = match (c.kind, cert) {
                (ClaimKind::LivingAllowance, _) => {
                    format!(
                        "living_allowance:enrolment:{}",
                        c.training.as_deref().unwrap_or("").trim_start_matches('e')
                    )
                }
                (_, Some(cert)) => format!("{}:certificate:{cert}", c.kind.code()),
                (_, None) => format!("{}:{}", c.kind.code(), c.id),
            };
            let training = c.training.clone();
            (
                key,
                c.kind,
                if c.kind == ClaimKind::LivingAllowance { None } else { cert },
                c.id.clone(),
                c.filed,
                training,
            )
        })
        .collect();
    case.claims = claims;
    let (snapshot, decisions) = decide(case, params, region)?;
    let mut out = Vec::with_capacity(keyed.len());
    for (key, kind, cert, id, filed, training) in keyed {
        let d = decisions.get(&id).ok_or_else(|| StoreError::NotFound)?;
        // A living allowance with no day attended has nothing to pay: not filed.
        if kind == ClaimKind::LivingAllowance && d.amount_fen == 0 && d.outcome == jineng_policy::Outcome::Approved {
            continue;
        }
        let mut c = NewClaim::decided(key, kind.code(), &h.person.county_code, filed, &snapshot, d);
        c.person_id = Some(h.person.person_id);
        c.certificate_id = cert;
        let on = hold::dates(h, training.as_deref(), filed);
        hold::hold(&mut c, h, kind, &on, None);
        out.push(c);
    }
    Ok(out)
}

/// Prepares and decides the living allowances (S2) the end of a class brings its trainees,
/// from the days they attended, whether or not they passed; filed on `today`. Returns the
/// number of new claims (an allowance already prepared, e.g. with a certificate, is left).
pub async fn for_class_end(db: &Db, actor: Actor, class_id: i64, today: chrono::NaiveDate) -> Result<usize> {
    let params = parameters::effective(db).await?;
    let region = parameters::region(db).await?;
    let trainees = super::class_trainees(db, class_id).await?;
    if trainees.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = trainees.iter().map(|t| t.0).collect();
    let mut tx = db.begin().await?;
    lock_people(&mut tx, &ids).await?;
    let hs = histories(&mut tx, &ids).await?;
    let codes: BTreeSet<String> = hs.iter().flat_map(employer_codes).collect();
    let all_employers = employers_by_code(&mut tx, &codes.into_iter().collect::<Vec<_>>()).await?;
    let mut out = Vec::new();
    for h in &hs {
        let Some(&(_, enrolment)) = trainees.iter().find(|t| t.0 == h.person.person_id) else { continue };
        let codes = employer_codes(h);
        let employers: Vec<EmployerFact> =
            all_employers.iter().filter(|e| codes.contains(&e.credit_code)).cloned().collect();
        let mut case = case_of(&[h], &employers, vec![], vec![])?;
        let claims = jineng_policy::claims_at_training_end(&case, &training_ref(enrolment), today).map_err(|e| {
            StoreError::invalid("case", Invalid::new("case.invalid", format!("登记信息不完整：{e}"), e.to_string()))
        })?;
        let Some(claim) = claims.into_iter().next() else { continue };
        let id = claim.id.clone();
        case.claims = vec![claim];
        let (snapshot, decisions) = decide(case, &params, &region)?;
        let d = decisions.get(&id).ok_or(StoreError::NotFound)?;
        // A living allowance with no day attended has nothing to pay: not filed.
        if d.amount_fen == 0 && d.outcome == jineng_policy::Outcome::Approved {
            continue;
        }
        let key = format!("living_allowance:enrolment:{enrolment}");
        let mut c =
            NewClaim::decided(key, ClaimKind::LivingAllowance.code(), &h.person.county_code, today, &snapshot, d);
        c.person_id = Some(h.person.person_id);
        let on = hold::dates(h, Some(&training_ref(enrolment)), today);
        hold::hold(&mut c, h, ClaimKind::LivingAllowance, &on, None);
        out.push(c);
    }
    let filed = file_many(&mut tx, actor, &out).await?;
    tx.commit().await?;
    tracing::info!(class.id = class_id, filed, "living allowances prepared at the class's end");
    Ok(filed)
}
