//! Subsidy claims: prepared by the system when a certificate is issued, or filed by employers
//! and providers; each decided by the policy engine from a snapshot of the history, and stored
//! with the decision and the snapshot. Then the county reviews, publishes on a 7-day notice,
//! resolves objections; finance pays in batches per fund (see [`crate::payments`]).

use crate::auth::{Auth, CsrfForm, CurrentUser};
use crate::error::AppError;
use crate::pages::{render_page, PageError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use chrono::NaiveDate;
use jineng_domain::{ClaimAction, ClaimStatus, IdNumber};
use jineng_policy::Engine;
use jineng_store::claims::{self, ClaimRow, ClaimScope, EmployerFact, History, NewClaim};
use jineng_store::payments::{self, ClaimEvent, ObjectionRow};
use jineng_store::users::{Role, User};
use jineng_store::Db;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json_};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

/// Groups whose members get a living allowance while training (S2); rural school leavers too.
const LIVING_ALLOWANCE_GROUPS: &[&str] = &["poor_worker", "hard_to_employ", "zero_employment_family", "urban_dibao"];

fn in_group(h: &History, group: &str, on: NaiveDate) -> bool {
    h.groups.iter().any(|(g, from, to)| g == group && *from <= on && to.is_none_or(|t| on <= t))
}

/// The case (`jineng-case/1`) of some people's histories, with the employers they refer to,
/// any further history and the claims to decide.
pub fn case_of(hs: &[&History], employers: &[EmployerFact], extra_granted: Vec<Json_>, claims: Vec<Json_>) -> Json_ {
    let mut people = Vec::new();
    let mut trainings = Vec::new();
    let mut certificates = Vec::new();
    let mut granted = extra_granted;
    let mut employments = Vec::new();
    for h in hs {
        let p = &h.person;
        let id_number = &p.id_number;
        let groups: Vec<Json_> =
            h.groups.iter().map(|(g, from, to)| json!({"group": g, "from": from, "to": to})).collect();
        people.push(json!({"id_number": id_number, "name": p.name, "hukou": p.county_code, "residence": p.county_code,
                           "rural": p.rural, "monthly_pension": p.monthly_pension, "insured_since": p.insured_since,
                           "business_started": null, "groups": groups}));
        for t in &h.trainings {
            let days = (t.end_date - t.start_date).num_days() + 1;
            let known_employer = t.employer_code.as_ref().filter(|c| employers.iter().any(|e| &&e.credit_code == c));
            trainings.push(json!({"id": format!("e{}", t.enrolment_id), "person": id_number, "kind": t.kind, "occupation": t.occupation_code,
                   "level": t.level, "county": t.county_code, "provider": t.provider_code, "employer": known_employer,
                   "start": t.start_date, "end": t.end_date, "days": days, "attended_days": t.attended.min(days),
                   "in_system": matches!(t.status.as_str(), "approved" | "closed"), "project_based": t.project_based}));
        }
        for c in &h.certificates {
            certificates.push(json!({"id": format!("c{}", c.certificate_id), "person": id_number, "training": format!("e{}", c.enrolment_id),
                   "kind": c.kind, "occupation": c.occupation_code, "level": c.level, "issued": c.issued_on, "serial": c.serial}));
        }
        for g in &h.granted {
            let request: Json_ = g.request.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
            let employer = g.employer_code.as_ref().filter(|c| employers.iter().any(|e| &&e.credit_code == c));
            granted.push(json!({"kind": g.kind, "person": id_number, "certificate": g.certificate_id.map(|c| format!("c{c}")),
                   "employer": employer, "months": request.get("months"), "date": g.filed_on, "amount_fen": g.amount_fen}));
        }
        for e in &h.employments {
            if employers.iter().any(|x| x.credit_code == e.employer_code) {
                employments.push(
                    json!({"person": id_number, "employer": e.employer_code, "from": e.from_date, "to": e.to_date}),
                );
            }
        }
    }
    let employers: Vec<Json_> = employers
        .iter()
        .map(|e| json!({"credit_code": e.credit_code, "name": e.name, "kind": e.kind, "insured": e.insured, "county": e.county_code}))
        .collect();
    let name = hs.first().map(|h| format!("{} 的申请", h.person.name)).unwrap_or_else(|| "单位申请".into());
    json!({
        "format": "jineng-case/1",
        "name": name,
        "people": people,
        "employers": employers,
        "employments": employments,
        "trainings": trainings,
        "certificates": certificates,
        "granted": granted,
        "claims": claims,
    })
}

/// The employers a set of histories refers to, plus `also`.
async fn employers_of(db: &Db, hs: &[&History], also: Option<&str>) -> Result<Vec<EmployerFact>, AppError> {
    let mut codes: BTreeSet<String> = hs.iter().flat_map(|h| employer_codes(h)).collect();
    codes.extend(also.map(str::to_owned));
    Ok(claims::employers_by_code(db, &codes.into_iter().collect::<Vec<_>>()).await?)
}

/// The credit codes of the employers one history refers to.
fn employer_codes(h: &History) -> BTreeSet<String> {
    let trainings = h.trainings.iter().filter_map(|t| t.employer_code.clone());
    let granted = h.granted.iter().filter_map(|g| g.employer_code.clone());
    trainings.chain(granted).chain(h.employments.iter().map(|e| e.employer_code.clone())).collect()
}

/// Decides `case` and returns each decision as JSON, by claim id, with the case's text.
fn decide(
    case: &Json_,
    params: &jineng_policy::Params,
    region: &str,
) -> Result<(String, HashMap<String, Json_>), AppError> {
    let text = case.to_string();
    let checked =
        jineng_policy::parse(&text).map_err(|e| AppError::Internal(format!("snapshot is not a valid case: {e}")))?;
    let decisions = Engine::new(params, region).decide(&checked);
    let mut out = HashMap::with_capacity(decisions.len());
    for d in &decisions {
        let v = serde_json::to_value(d).map_err(|e| AppError::Internal(e.to_string()))?;
        out.insert(d.claim.to_owned(), v);
    }
    Ok((text, out))
}

fn new_claim(key: String, kind: &str, county: &str, filed_on: NaiveDate, snapshot: &str, d: &Json_) -> NewClaim {
    NewClaim {
        idempotency_key: key,
        kind: kind.into(),
        person_id: None,
        certificate_id: None,
        county_code: county.into(),
        filed_on,
        outcome: d["outcome"].as_str().unwrap_or("rejected").into(),
        amount_fen: d["amount_fen"].as_i64().unwrap_or(0).max(0),
        payee: d["payee"].to_string(),
        fund: d["fund"].as_str().unwrap_or_default().into(),
        decision: d.to_string(),
        snapshot: snapshot.into(),
        employer_id: None,
        provider_id: None,
        project_ref: None,
        request: None,
        filed_by: None,
    }
}

/// The claims a certificate brings, as the policy allows: a skill-upgrade subsidy for an insured
/// employee (S3) when the policy grants it, else the training subsidy (S7); and a living
/// allowance for the training (S2) when the person is in a group that earns one. Decided from
/// each person's history in one case; stored in one transaction; idempotent per certificate and
/// per training. `certs` are (person id, certificate id). Returns the number of new claims.
pub async fn prepare_for_certificates(
    st: &AppState,
    actor: Option<i64>,
    certs: &[(i64, i64)],
) -> Result<usize, AppError> {
    let params = crate::policy::effective_params(&st.db).await?;
    let region = crate::policy::region(&st.db).await?;
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
    let (mut reading, mut deciding, mut storing) =
        (std::time::Duration::ZERO, std::time::Duration::ZERO, std::time::Duration::ZERO);
    for chunk in order.chunks(2000) {
        let t = std::time::Instant::now();
        let hs = claims::histories(&st.db, chunk).await?;
        reading += t.elapsed();
        let t = std::time::Instant::now();
        let mut out = Vec::with_capacity(chunk.len() * 2);
        // The employers the chunk refers to, read once; each case gets its own.
        let refs: Vec<&History> = hs.iter().collect();
        let all_employers = employers_of(&st.db, &refs, None).await?;
        for h in &hs {
            let codes = employer_codes(h);
            let employers: Vec<EmployerFact> =
                all_employers.iter().filter(|e| codes.contains(&e.credit_code)).cloned().collect();
            out.extend(claims_for_person(h, &employers, &by_person[&h.person.person_id], &params, &region)?);
        }
        deciding += t.elapsed();
        let t = std::time::Instant::now();
        filed += claims::file_many(&st.db, actor, &out).await?;
        storing += t.elapsed();
    }
    tracing::info!(certificates = certs.len(), filed, ?reading, ?deciding, ?storing, "claims prepared");
    Ok(filed)
}

fn claims_for_person(
    h: &History,
    employers: &[EmployerFact],
    cert_ids: &[i64],
    params: &jineng_policy::Params,
    region: &str,
) -> Result<Vec<NewClaim>, AppError> {
    let id_number = h.person.id_number.as_str();
    let mut certs: Vec<_> = h.certificates.iter().filter(|c| cert_ids.contains(&c.certificate_id)).collect();
    certs.sort_by_key(|c| (c.issued_on, c.certificate_id));
    let cert_claim = |kind: &str, c: &claims::CertificateFact| json!({"id": format!("{kind}:{}", c.certificate_id), "kind": kind, "filed": c.issued_on, "person": id_number, "certificate": format!("c{}", c.certificate_id)});
    // Skill-upgrade subsidies first where the person may earn one; keep those the policy grants.
    let mut upgrade = BTreeSet::new();
    let candidates: Vec<_> = certs
        .iter()
        .filter(|c| h.person.insured_since.is_some() && in_group(h, "employee", c.issued_on) && c.level.is_some())
        .collect();
    if !candidates.is_empty() {
        let trial = case_of(
            &[h],
            employers,
            vec![],
            candidates.iter().map(|c| cert_claim("skill_upgrade_subsidy", c)).collect(),
        );
        let (_, ds) = decide(&trial, params, region)?;
        for c in candidates {
            let d = &ds[&format!("skill_upgrade_subsidy:{}", c.certificate_id)];
            if matches!(d["outcome"].as_str(), Some("approved" | "reduced")) {
                upgrade.insert(c.certificate_id);
            }
        }
    }
    let mut list = Vec::new();
    let mut keys = Vec::new();
    for c in &certs {
        let training = h.trainings.iter().find(|t| t.enrolment_id == c.enrolment_id);
        // A project-based class is paid to the provider by its settlement (S9), not per certificate.
        if !training.is_some_and(|t| t.project_based) {
            let kind = if upgrade.contains(&c.certificate_id) { "skill_upgrade_subsidy" } else { "training_subsidy" };
            list.push(cert_claim(kind, c));
            keys.push((
                format!("{kind}:certificate:{}", c.certificate_id),
                kind,
                Some(c.certificate_id),
                format!("{kind}:{}", c.certificate_id),
                c.issued_on,
            ));
        }
        if let Some(t) = training {
            let eligible = LIVING_ALLOWANCE_GROUPS.iter().any(|g| in_group(h, g, t.start_date))
                || (h.person.rural && in_group(h, "school_leaver", t.start_date));
            if eligible && !keys.iter().any(|k| k.0 == format!("living_allowance:enrolment:{}", t.enrolment_id)) {
                let id = format!("living_allowance:{}", t.enrolment_id);
                list.push(json!({"id": id, "kind": "living_allowance", "filed": c.issued_on, "person": id_number, "training": format!("e{}", t.enrolment_id)}));
                keys.push((
                    format!("living_allowance:enrolment:{}", t.enrolment_id),
                    "living_allowance",
                    None,
                    id,
                    c.issued_on,
                ));
            }
        }
    }
    if list.is_empty() {
        return Ok(vec![]);
    }
    let case = case_of(&[h], employers, vec![], list);
    let (text, ds) = decide(&case, params, region)?;
    let mut out = Vec::with_capacity(keys.len());
    for (key, kind, cert, id, filed) in keys {
        let d = ds.get(&id).ok_or_else(|| AppError::Internal(format!("no decision for {id}")))?;
        // A living allowance with no day attended has nothing to pay: not filed.
        if kind == "living_allowance" && d["amount_fen"].as_i64() == Some(0) && d["outcome"] == "approved" {
            continue;
        }
        let mut c = new_claim(key, kind, &h.person.county_code, filed, &text, d);
        c.person_id = Some(h.person.person_id);
        c.certificate_id = cert;
        out.push(c);
    }
    Ok(out)
}

/// Prepares and decides the claims a certificate brings (idempotent).
pub async fn prepare_for_certificate(
    st: &AppState,
    actor: Option<i64>,
    person_id: i64,
    certificate_id: i64,
) -> Result<usize, AppError> {
    prepare_for_certificates(st, actor, &[(person_id, certificate_id)]).await
}

/// What the caller may see.
pub fn scope_of(u: &User) -> Result<ClaimScope, AppError> {
    let id = || u.scope_id().ok_or(AppError::Forbidden);
    Ok(match u.role {
        Role::CityAdmin | Role::Finance | Role::Auditor => ClaimScope::default(),
        Role::County => ClaimScope { county: Some(u.scope.clone().ok_or(AppError::Forbidden)?), ..Default::default() },
        Role::Worker => ClaimScope { person_id: Some(id()?), ..Default::default() },
        Role::Employer => ClaimScope { employer_id: Some(id()?), ..Default::default() },
        Role::Provider => ClaimScope { provider_id: Some(id()?), ..Default::default() },
        _ => return Err(AppError::Forbidden),
    })
}

/// What an employer or provider asks for. Which fields are needed depends on `kind`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ClaimRequest {
    /// `on_the_job`, `pre_job`, `apprenticeship`, `equipment_grant` (employers) or
    /// `project_training` (providers).
    pub kind: String,
    /// The worker's ID number (on-the-job, pre-job, apprenticeship).
    #[serde(default)]
    pub id_number: Option<String>,
    /// Employed by the employer since (on-the-job, pre-job, apprenticeship): recorded in the registry.
    #[serde(default)]
    pub employed_from: Option<NaiveDate>,
    /// First month subsidised (on-the-job).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Months (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// The class (pre-job and apprenticeship: the class the worker trained in; project: the class).
    #[serde(default)]
    pub class_id: Option<i64>,
    /// Years (apprenticeship).
    #[serde(default)]
    pub years: Option<i64>,
    /// `training_base` or `master_studio` (equipment).
    #[serde(default)]
    pub facility: Option<String>,
    /// Value of the equipment, fen.
    #[serde(default)]
    pub equipment_value_fen: Option<i64>,
    /// Joint acceptance by finance and HR done (equipment).
    #[serde(default)]
    pub accepted: Option<bool>,
    /// Number of the acceptance report (equipment).
    #[serde(default)]
    pub acceptance_ref: Option<String>,
    /// Contract sum, fen (project).
    #[serde(default)]
    pub contract_fen: Option<i64>,
    /// `advance` or `settlement` (project).
    #[serde(default)]
    pub stage: Option<String>,
}

fn need<T: Clone>(v: &Option<T>, field: &str) -> Result<T, AppError> {
    v.clone().ok_or_else(|| AppError::field(field, "必填 / required"))
}

/// The answer to a filing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Filed {
    /// The claim.
    pub claim: ClaimRow,
    /// False when the idempotency key had been used: this is the claim filed then.
    pub created: bool,
}

/// Files an employer's or provider's claim, decided at once. `key` is the client's idempotency
/// key: the same key from the same filer yields the same claim.
pub async fn file_request(
    st: &AppState,
    u: &User,
    key: &str,
    r: &ClaimRequest,
    today: NaiveDate,
) -> Result<(i64, bool), AppError> {
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::BadRequest(
            "缺少幂等键（Idempotency-Key，1–100字符）/ an Idempotency-Key header of 1 to 100 characters is required"
                .into(),
        ));
    }
    let db = &st.db;
    let scope_id = u.scope_id().ok_or(AppError::Forbidden)?;
    let idem = format!("{}:{}:{}", u.role.code(), scope_id, key);
    if let Some(id) = claims::by_key(db, &idem).await? {
        return Ok((id, false));
    }
    let params = crate::policy::effective_params(db).await?;
    let region = crate::policy::region(db).await?;
    let kind = r.kind.as_str();
    let f = Filing { db, scope_id, kind, r, today, key: idem, params: &params, region: &region };
    let (mut new, employment) = match (u.role, kind) {
        (Role::Employer, "on_the_job" | "pre_job" | "apprenticeship" | "equipment_grant") => employer_claim(&f).await?,
        (Role::Provider, "project_training") => (project_claim(&f).await?, None),
        _ => {
            return Err(AppError::field(
                "kind",
                "用人单位可申请 on_the_job、pre_job、apprenticeship、equipment_grant；培训机构可申请 project_training / employers file on_the_job, pre_job, apprenticeship, equipment_grant; providers project_training",
            ))
        }
    };
    new.request = Some(serde_json::to_string(r).unwrap_or_default());
    new.filed_by = Some(u.user_id);
    if let Some((person_id, from)) = employment {
        jineng_store::payments::record_employment(db, Some(u.user_id), person_id, scope_id, from).await?;
    }
    Ok(claims::file(db, Some(u.user_id), &new).await?)
}

/// What every filing needs.
struct Filing<'a> {
    db: &'a Db,
    /// The employer's or provider's id.
    scope_id: i64,
    kind: &'a str,
    r: &'a ClaimRequest,
    today: NaiveDate,
    /// The idempotency key as stored.
    key: String,
    params: &'a jineng_policy::Params,
    region: &'a str,
}

/// An employer's claim, decided; with the employment it declares (person, from), if any.
async fn employer_claim(f: &Filing<'_>) -> Result<(NewClaim, Option<(i64, NaiveDate)>), AppError> {
    let employer = claims::employer_code(f.db, f.scope_id).await.map_err(|_| AppError::Forbidden)?;
    let (code, county) = employer;
    let mut claim = json!({"id": "k", "kind": f.kind, "filed": f.today, "employer": code});
    let mut person_id = None;
    let mut hs = Vec::new();
    let mut employment = None;
    if f.kind != "equipment_grant" {
        let id = IdNumber::parse(&need(&f.r.id_number, "id_number")?).map_err(|e| AppError::field("id_number", e))?;
        let person = jineng_store::people::find_by_id_number(f.db, &Default::default(), &id)
            .await?
            .ok_or_else(|| AppError::field("id_number", "未实名登记 / not in the registry"))?;
        person_id = Some(person.person_id);
        let from = need(&f.r.employed_from, "employed_from")?;
        if from > f.today {
            return Err(AppError::field("employed_from", "入职日期不能晚于今天 / cannot be in the future"));
        }
        employment = Some((person.person_id, from));
        claim["person"] = json!(id.as_str());
        let mut h = claims::history(f.db, person.person_id).await?;
        if !h.employments.iter().any(|e| e.employer_code == code && e.from_date == from) {
            h.employments.push(claims::EmploymentFact {
                person_id: person.person_id,
                employer_code: code.clone(),
                from_date: from,
                to_date: None,
            });
        }
        match f.kind {
            "on_the_job" => {
                let months = need(&f.r.months, "months")?;
                if !(1..=120).contains(&months) {
                    return Err(AppError::field("months", "月数应为1至120 / 1 to 120 months"));
                }
                claim["from"] = json!(need(&f.r.from, "from")?);
                claim["months"] = json!(months);
            }
            _ => {
                let class_id = need(&f.r.class_id, "class_id")?;
                let t = h.trainings.iter().find(|t| t.class_id == class_id);
                let t = t.ok_or_else(|| {
                    AppError::field("class_id", "该劳动者未在此培训班 / the worker is not in this class")
                })?;
                claim["training"] = json!(format!("e{}", t.enrolment_id));
                if f.kind == "apprenticeship" {
                    let years = need(&f.r.years, "years")?;
                    if !(1..=5).contains(&years) {
                        return Err(AppError::field("years", "年数应为1至5 / 1 to 5 years"));
                    }
                    claim["years"] = json!(years);
                }
            }
        }
        hs.push(h);
    } else {
        let facility = need(&f.r.facility, "facility")?;
        if !matches!(facility.as_str(), "training_base" | "master_studio") {
            return Err(AppError::field("facility", "应为 training_base 或 master_studio"));
        }
        let value = need(&f.r.equipment_value_fen, "equipment_value_fen")?;
        if value <= 0 {
            return Err(AppError::field("equipment_value_fen", "金额须大于0 / must be positive"));
        }
        let accepted = f.r.accepted.unwrap_or(false);
        if accepted && f.r.acceptance_ref.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(AppError::field(
                "acceptance_ref",
                "已验收须填写验收报告编号 / give the acceptance report number",
            ));
        }
        claim["facility"] = json!(facility);
        claim["equipment_value_fen"] = json!(value);
        claim["accepted"] = json!(accepted);
    }
    let refs: Vec<&History> = hs.iter().collect();
    let employers = employers_of(f.db, &refs, Some(&code)).await?;
    let case = case_of(&refs, &employers, vec![], vec![claim]);
    let (text, ds) = decide(&case, f.params, f.region)?;
    let mut c = new_claim(f.key.clone(), f.kind, &county, f.today, &text, &ds["k"]);
    c.person_id = person_id;
    c.employer_id = Some(f.scope_id);
    Ok((c, employment))
}

/// A provider's project claim (advance or settlement), decided.
async fn project_claim(f: &Filing<'_>) -> Result<NewClaim, AppError> {
    let class_id = need(&f.r.class_id, "class_id")?;
    let class = claims::class_owner(f.db, class_id)
        .await?
        .filter(|c: &(i64, String)| c.0 == f.scope_id)
        .ok_or_else(|| AppError::field("class_id", "不是本机构的培训班 / not a class of this provider"))?;
    let contract = need(&f.r.contract_fen, "contract_fen")?;
    if contract <= 0 {
        return Err(AppError::field("contract_fen", "金额须大于0 / must be positive"));
    }
    let stage = need(&f.r.stage, "stage")?;
    if !matches!(stage.as_str(), "advance" | "settlement") {
        return Err(AppError::field("stage", "应为 advance（预拨）或 settlement（清算）"));
    }
    let provider_code = claims::provider_code(f.db, f.scope_id).await?;
    let people = claims::class_trainees(f.db, class_id).await?;
    let ids: Vec<i64> = people.iter().map(|p| p.0).collect();
    let hs = claims::histories(f.db, &ids).await?;
    let refs: Vec<&History> = hs.iter().collect();
    let employers = employers_of(f.db, &refs, None).await?;
    let project = format!("class-{class_id}");
    let (before, settled) = claims::project_history(f.db, &project).await?;
    let mut granted: Vec<Json_> = before
            .iter()
            .map(|(req, date, amount)| {
                let req: Json_ = req.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
                json!({"kind": "project_training", "provider": provider_code, "project": project, "stage": req["stage"], "date": date, "amount_fen": amount})
            })
            .collect();
    if settled {
        granted.push(json!({"kind": "project_training", "provider": provider_code, "project": project, "stage": "settlement", "date": f.today, "amount_fen": 0}));
    }
    let trainings: Vec<String> =
        people.iter().filter(|p| hs.iter().any(|h| h.person.person_id == p.0)).map(|p| format!("e{}", p.1)).collect();
    let claim = json!({"id": "k", "kind": "project_training", "filed": f.today, "provider": provider_code, "project": project,
                           "trainings": trainings, "contract_fen": contract, "stage": stage});
    let case = case_of(&refs, &employers, granted, vec![claim]);
    let (text, ds) = decide(&case, f.params, f.region)?;
    let mut c = new_claim(f.key.clone(), f.kind, &class.1, f.today, &text, &ds["k"]);
    c.provider_id = Some(f.scope_id);
    c.project_ref = Some(project);
    Ok(c)
}

/// File a claim (employers: on-the-job, pre-job, apprenticeship, equipment; providers: project
/// advance or settlement). Send an `Idempotency-Key` header: a retry with the same key returns
/// the claim filed the first time (200) instead of filing another (201).
#[utoipa::path(post, path = "/api/v1/claims", request_body = ClaimRequest, responses((status = 201, body = Filed), (status = 200, body = Filed)))]
pub async fn file_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    headers: HeaderMap,
    Json(r): Json<ClaimRequest>,
) -> Result<Response, AppError> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    let (id, created) = file_request(&st, &u, key, &r, crate::policy::today()).await?;
    let claim = claims::get(&st.db, &scope_of(&u)?, id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Filed { claim, created })).into_response())
}

/// Filter of claim lists.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ClaimQuery {
    /// Only claims in this status.
    pub status: Option<String>,
    /// Only claims of this kind.
    pub kind: Option<String>,
    /// Page, from 1 (100 claims a page on the list page, 500 in the API).
    pub page: Option<i64>,
}

/// Kinds of claim, with their Chinese names.
pub const KINDS: [&str; 8] = [
    "training_subsidy",
    "skill_upgrade_subsidy",
    "living_allowance",
    "pre_job",
    "on_the_job",
    "apprenticeship",
    "equipment_grant",
    "project_training",
];

/// The store filter of a query, checked.
pub fn claim_filter(q: &ClaimQuery, per_page: i64) -> Result<claims::ClaimFilter, AppError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            ClaimStatus::parse(s)
                .map(|s| s.code().to_owned())
                .ok_or_else(|| AppError::field("status", "未知状态 / unknown status"))?,
        ),
    };
    let kind = match q.kind.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k) if KINDS.contains(&k) => Some(k.to_owned()),
        Some(_) => return Err(AppError::field("kind", "未知补贴类型 / unknown kind")),
    };
    let page = q.page.unwrap_or(1).max(1);
    Ok(claims::ClaimFilter { status, kind, limit: per_page, offset: (page - 1) * per_page })
}

/// Claims visible to the caller, newest first, with their decisions.
#[utoipa::path(get, path = "/api/v1/claims", params(ClaimQuery), responses((status = 200, body = [ClaimRow])))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ClaimQuery>,
) -> Result<Json<Vec<ClaimRow>>, AppError> {
    Ok(Json(claims::page(&st.db, &scope_of(&u)?, &claim_filter(&q, 500)?).await?.0))
}

/// A claim with its history of status changes and objections.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetail {
    /// The claim.
    pub claim: ClaimRow,
    /// Status label (Chinese).
    pub status_zh: String,
    /// Who moved it, when, why.
    pub events: Vec<ClaimEvent>,
    /// Objections filed during the notice.
    pub objections: Vec<ObjectionRow>,
}

async fn detail(st: &AppState, u: &User, id: i64) -> Result<ClaimDetail, AppError> {
    let claim = claims::get(&st.db, &scope_of(u)?, id).await?;
    let status_zh = ClaimStatus::parse(&claim.status).map(|s| s.zh()).unwrap_or("").to_owned();
    let events = payments::events(&st.db, id).await?;
    let mut objections = payments::objections(&st.db, id).await?;
    // Who objected, and how to reach them, is for the reviewers (and auditors) only: the
    // claimant sees what was objected and how it was resolved.
    if !matches!(u.role, Role::County | Role::CityAdmin | Role::Auditor) {
        for o in &mut objections {
            o.filer_name = "（不公开）".into();
            o.contact = String::new();
        }
    }
    Ok(ClaimDetail { claim, status_zh, events, objections })
}

/// One claim.
#[utoipa::path(get, path = "/api/v1/claims/{id}", params(("id" = i64, Path)), responses((status = 200, body = ClaimDetail)))]
pub async fn get_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ClaimDetail>, AppError> {
    Ok(Json(detail(&st, &u, id).await?))
}

/// A review action.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClaimActionBody {
    /// `approve`, `reject` or `publish`.
    pub action: String,
    /// Why (required to reject).
    #[serde(default)]
    pub reason: String,
}

async fn act(st: &AppState, u: &User, id: i64, b: &ClaimActionBody) -> Result<ClaimStatus, AppError> {
    let action = ClaimAction::parse(&b.action).ok_or_else(|| AppError::field("action", "未知操作 / unknown action"))?;
    Ok(payments::review(&st.db, u.user_id, &scope_of(u)?, id, action, &b.reason, crate::policy::today()).await?)
}

/// The county's review: approve, reject (with a reason) or publish on the 7-day notice.
#[utoipa::path(post, path = "/api/v1/claims/{id}/actions", request_body = ClaimActionBody, params(("id" = i64, Path)), responses((status = 200, body = ClaimDetail)))]
pub async fn action_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ClaimActionBody>,
) -> Result<Json<ClaimDetail>, AppError> {
    act(&st, &u, id, &b).await?;
    Ok(Json(detail(&st, &u, id).await?))
}

/// An objection.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ObjectionBody {
    /// Who objects.
    #[serde(default)]
    pub filer_name: String,
    /// Phone or address (seen by reviewers only).
    #[serde(default)]
    pub contact: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// Anyone may object to a claim on public notice.
#[utoipa::path(post, path = "/api/v1/notice/{id}/objections", request_body = ObjectionBody, params(("id" = i64, Path)), responses((status = 201)))]
pub async fn object_api(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Json(b): Json<ObjectionBody>,
) -> Result<Response, AppError> {
    let oid = object(&st, id, &b.filer_name, &b.contact, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(json!({"objection_id": oid}))).into_response())
}

/// Files a public objection; one contact may file at most five in 15 minutes (the sign-in
/// throttle's window), so that the notice cannot be flooded.
async fn object(st: &AppState, claim_id: i64, filer_name: &str, contact: &str, reason: &str) -> Result<i64, AppError> {
    let key = format!("objection:{}", contact.split_whitespace().collect::<String>());
    if st.throttle.locked(&key) {
        return Err(AppError::TooManySubmissions);
    }
    let id = payments::object(&st.db, claim_id, filer_name, contact, reason, crate::policy::today()).await?;
    st.throttle.fail(&key);
    Ok(id)
}

/// How an objection is resolved.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveBody {
    /// True: the objection stands and the claim is rejected; false: dismissed.
    #[serde(default)]
    pub uphold: bool,
    /// The resolution, in words.
    #[serde(default)]
    pub resolution: String,
}

/// The county resolves an objection.
#[utoipa::path(post, path = "/api/v1/objections/{id}", request_body = ResolveBody, params(("id" = i64, Path)), responses((status = 204)))]
pub async fn resolve_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<ResolveBody>,
) -> Result<StatusCode, AppError> {
    payments::resolve_objection(&st.db, u.user_id, &scope_of(&u)?, id, b.uphold, &b.resolution).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Claims on public notice (public: names partly masked, no ID numbers).
#[utoipa::path(get, path = "/api/v1/notice", responses((status = 200, body = [payments::NoticeRow])))]
pub async fn notice_api(State(st): State<AppState>) -> Result<Json<Vec<payments::NoticeRow>>, AppError> {
    Ok(Json(payments::notice(&st.db, None, crate::policy::today(), 1000).await?))
}

/// Chinese name of a claim kind.
pub fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "training_subsidy" => "职业培训补贴",
        "skill_upgrade_subsidy" => "技能提升补贴",
        "living_allowance" => "生活费补贴",
        "pre_job" => "岗前培训补贴",
        "on_the_job" => "以工代训补贴",
        "apprenticeship" => "学徒制培训补贴",
        "equipment_grant" => "设施设备补助",
        "project_training" => "项目制培训补贴",
        _ => "其他",
    }
}

fn row_view(r: &ClaimRow) -> Json_ {
    let decision: Json_ = serde_json::from_str(&r.decision).unwrap_or_default();
    let status = ClaimStatus::parse(&r.status);
    json!({"claim_id": r.claim_id, "kind": r.kind, "kind_zh": kind_zh(&r.kind), "person_name": r.person_name, "payee_name": r.payee_name,
           "filed_on": r.filed_on, "status": r.status, "status_zh": status.map(|s| s.zh()), "status_en": status.map(|s| s.en()),
           "outcome": r.outcome, "amount_fen": r.amount_fen, "payee": serde_json::from_str::<Json_>(&r.payee).unwrap_or_default(),
           "fund": r.fund, "reasons": decision["reasons"], "clauses": decision["clauses"], "parameters": decision["parameters"],
           "notice_from": r.notice_from, "notice_until": r.notice_until, "open_objections": r.open_objections, "county_code": r.county_code})
}

/// The subsidies of one person (their electronic record), as shown.
pub async fn subsidies_of(db: &Db, person_id: i64) -> Result<Vec<Json_>, AppError> {
    let scope = ClaimScope { person_id: Some(person_id), ..Default::default() };
    Ok(claims::list(db, &scope, None, 1000).await?.iter().map(row_view).collect())
}

/// `GET /claims`
pub async fn list_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Query(q): Query<ClaimQuery>,
) -> Result<Html<String>, PageError> {
    const PER_PAGE: i64 = 100;
    let (rows, total) =
        async { Ok::<_, AppError>(claims::page(&st.db, &scope_of(&u)?, &claim_filter(&q, PER_PAGE)?).await?) }
            .await
            .map_err(|e| PageError::new(e, auth.clone()))?;
    let rows: Vec<Json_> = rows.iter().map(row_view).collect();
    let statuses: Vec<(&str, &str)> = ClaimStatus::ALL.iter().map(|s| (s.code(), s.zh())).collect();
    let kinds: Vec<(&str, &str)> = KINDS.iter().map(|k| (*k, kind_zh(k))).collect();
    let page = q.page.unwrap_or(1).max(1);
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    render_page(
        &st,
        &auth,
        "claims.html",
        context! { rows => Value::from_serialize(&rows), statuses => statuses, kinds => kinds, kind => q.kind.clone().unwrap_or_default(),
                          total => total, page => page, pages => pages,
        status => q.status.unwrap_or_default(),
               can_review => u.role == Role::County || u.role == Role::CityAdmin,
               can_file => u.role == Role::Employer || u.role == Role::Provider },
    )
}

/// `GET /claims/{id}`
pub async fn detail_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    claim_page(&st, &auth, &u, id, None).await
}

async fn claim_page(
    st: &AppState,
    auth: &Auth,
    u: &User,
    id: i64,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let d = detail(st, u, id).await.map_err(|e| PageError::new(e, auth.clone()))?;
    let decision: Json_ = serde_json::from_str(&d.claim.decision).unwrap_or_default();
    // The plan's words for each clause that decided it.
    let quotes: Vec<(String, &str)> = decision["clauses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str())
                .filter_map(|c| jineng_policy::clauses::quote(c).map(|q| (c.to_owned(), q)))
                .collect()
        })
        .unwrap_or_default();
    let reviewer = matches!(u.role, Role::County | Role::CityAdmin);
    // Contacts of objectors are for reviewers only.
    let objections: Vec<Json_> = d
        .objections
        .iter()
        .map(|o| json!({"objection_id": o.objection_id, "filer_name": o.filer_name, "contact": if reviewer { o.contact.clone() } else { String::new() },
                        "reason": o.reason, "status": o.status, "filed_at": o.filed_at.format("%Y-%m-%d %H:%M").to_string(), "resolution": o.resolution}))
        .collect();
    let events: Vec<Json_> = d
        .events
        .iter()
        .map(|e| json!({"action": ClaimAction::parse(&e.action).map(|a| a.zh()).unwrap_or(""), "from": ClaimStatus::parse(&e.from_status).map(|s| s.zh()),
                        "to": ClaimStatus::parse(&e.to_status).map(|s| s.zh()), "actor": e.actor_name, "at": (e.at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string(), "reason": e.reason}))
        .collect();
    render_page(
        st,
        auth,
        "claim.html",
        context! { c => Value::from_serialize(row_view(&d.claim)), decision => Value::from_serialize(&decision),
        events => Value::from_serialize(&events), objections => Value::from_serialize(&objections),
        reviewer => reviewer, error => error, quotes => quotes },
    )
}

/// `POST /claims/{id}/actions`
pub async fn action_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<crate::classes::ActionForm>,
) -> Result<Response, PageError> {
    match act(&st, &u, id, &ClaimActionBody { action: f.action, reason: f.reason }).await {
        Ok(_) => Ok(Redirect::to(&format!("/claims/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            claim_page(&st, &auth, &u, id, Some(e.message())).await.map(|h| (e.status(), h).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// A resolution form.
#[derive(Deserialize)]
pub struct ResolveForm {
    objection_id: i64,
    decision: String,
    #[serde(default)]
    resolution: String,
}

/// `POST /claims/{id}/objections`: the county resolves an objection.
pub async fn resolve_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ResolveForm>,
) -> Result<Response, PageError> {
    let result = async {
        Ok::<_, AppError>(
            payments::resolve_objection(
                &st.db,
                u.user_id,
                &scope_of(&u)?,
                f.objection_id,
                f.decision == "uphold",
                &f.resolution,
            )
            .await?,
        )
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/claims/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            claim_page(&st, &auth, &u, id, Some(e.message())).await.map(|h| (e.status(), h).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `POST /claims/publish-all`: the county approves and publishes every claim awaiting review
/// whose decision pays something.
pub async fn publish_all_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(_f): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let n = async {
        Ok::<_, AppError>(
            payments::approve_and_publish_all(&st.db, u.user_id, &scope_of(&u)?, crate::policy::today()).await?,
        )
    }
    .await
    .map_err(|e| PageError::new(e, auth.clone()))?;
    Ok(Redirect::to(&format!("/claims?status=on_notice&published={n}")).into_response())
}

/// `GET /notice`: the public notice, with a form to object.
pub async fn notice_page(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
    let rows = payments::notice(&st.db, None, crate::policy::today(), 1000)
        .await
        .map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let rows: Vec<Json_> = rows
        .iter()
        .map(|r| {
            json!({"claim_id": r.claim_id, "kind_zh": kind_zh(&r.kind), "payee": r.payee, "county_name": r.county_name,
                        "amount_fen": r.amount_fen, "notice_from": r.notice_from, "notice_until": r.notice_until})
        })
        .collect();
    render_page(&st, &auth, "notice.html", context! { rows => Value::from_serialize(&rows), done => false })
}

/// An objection from the public page.
#[derive(Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    filer_name: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    reason: String,
}

/// `POST /notice/{id}/objections` (public; no session, so no CSRF token: nothing is done in
/// anybody's name).
pub async fn object_form(
    State(st): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<ObjectionForm>,
) -> Result<Response, PageError> {
    match object(&st, id, &f.filer_name, &f.contact, &f.reason).await {
        Ok(_) => Ok(render_page(&st, &auth, "notice.html", context! { rows => Vec::<Json_>::new(), done => true })?
            .into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let page = render_page(
                &st,
                &auth,
                "notice.html",
                context! { rows => Vec::<Json_>::new(), done => false, error => e.message() },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `GET /claims/new`: the filing form of employers and providers.
pub async fn new_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    render_page(
        &st,
        &auth,
        "claim_form.html",
        context! { employer => u.role == Role::Employer, key => jineng_store::users::random_token(), f => Value::from_serialize(ClaimRequest::default()) },
    )
}

/// The filing form.
#[derive(Deserialize, Serialize, Default)]
pub struct ClaimForm {
    key: String,
    kind: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    employed_from: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    class_id: String,
    #[serde(default)]
    years: String,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    equipment_value_yuan: String,
    #[serde(default)]
    accepted: Option<String>,
    #[serde(default)]
    acceptance_ref: String,
    #[serde(default)]
    contract_yuan: String,
    #[serde(default)]
    stage: String,
}

fn parse_form(f: &ClaimForm) -> Result<ClaimRequest, AppError> {
    let mut errors = std::collections::BTreeMap::new();
    let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut date = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => v
            .parse::<NaiveDate>()
            .map_err(|_| errors.insert(field.to_owned(), "日期格式应为 YYYY-MM-DD".to_owned()))
            .ok(),
    };
    let employed_from = date("employed_from", &f.employed_from);
    let from = date("from", &f.from);
    let mut int = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => {
            v.parse::<i64>().map_err(|_| errors.insert(field.to_owned(), "应为整数 / a whole number".to_owned())).ok()
        }
    };
    let months = int("months", &f.months);
    let class_id = int("class_id", &f.class_id);
    let years = int("years", &f.years);
    let mut yuan = |field: &str, s: &str| match opt(s) {
        None => None,
        Some(v) => jineng_domain::Money::parse_yuan(&v)
            .map(|m| m.fen())
            .map_err(|e| errors.insert(field.to_owned(), e.to_string()))
            .ok(),
    };
    let equipment_value_fen = yuan("equipment_value_yuan", &f.equipment_value_yuan);
    let contract_fen = yuan("contract_yuan", &f.contract_yuan);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(ClaimRequest {
        kind: f.kind.clone(),
        id_number: opt(&f.id_number),
        employed_from,
        from,
        months,
        class_id,
        years,
        facility: opt(&f.facility),
        equipment_value_fen,
        accepted: Some(f.accepted.is_some()),
        acceptance_ref: opt(&f.acceptance_ref),
        contract_fen,
        stage: opt(&f.stage),
    })
}

/// `POST /claims`
pub async fn file_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ClaimForm>,
) -> Result<Response, PageError> {
    let result = async {
        let r = parse_form(&f)?;
        file_request(&st, &u, &f.key, &r, crate::policy::today()).await
    }
    .await;
    match result {
        Ok((id, _)) => Ok(Redirect::to(&format!("/claims/{id}")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::BadRequest(_))) => {
            let page = render_page(
                &st,
                &auth,
                "claim_form.html",
                context! { employer => u.role == Role::Employer, key => f.key.clone(), f => Value::from_serialize(&f),
                errors => Value::from_serialize(e.fields()), error => e.message() },
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// The demo's claims: prepared and decided from the demo certificates; in the county with the
/// most claims published ten days ago and paid, in the next one published today (on notice);
/// elsewhere awaiting the county's review.
pub async fn demo_claims(db: &Db, summary: &jineng_store::demo::DemoSummary) -> Result<String, AppError> {
    let st = AppState::new(db.clone());
    let filed = prepare_for_certificates(&st, None, &summary.certificates).await?;
    let user = |role: jineng_store::users::Role| summary.logins.iter().find(|l| l.role == role);
    let (Some(admin), Some(finance)) =
        (user(jineng_store::users::Role::CityAdmin), user(jineng_store::users::Role::Finance))
    else {
        return Ok(format!("{filed} 笔补贴申请 claims"));
    };
    let admin = jineng_store::users::authenticate(db, &admin.username, &admin.password).await?.map(|u| u.user_id);
    let finance = jineng_store::users::authenticate(db, &finance.username, &finance.password).await?.map(|u| u.user_id);
    let (Some(admin), Some(finance)) = (admin, finance) else { return Ok(format!("{filed} 笔补贴申请 claims")) };
    // The two counties with the most claims.
    let mut per_county: std::collections::BTreeMap<String, usize> = Default::default();
    for c in jineng_store::claims::list(db, &ClaimScope::default(), Some("decided"), 10_000_000).await? {
        *per_county.entry(c.county_code).or_default() += 1;
    }
    let mut counties: Vec<(String, usize)> = per_county.into_iter().collect();
    counties.sort_by_key(|c| std::cmp::Reverse(c.1));
    let today = crate::policy::today();
    let mut paid = 0;
    let mut on_notice = 0;
    if let Some(c) = counties.first() {
        let scope = ClaimScope { county: Some(c.0.clone()), ..Default::default() };
        payments::approve_and_publish_all(db, admin, &scope, today - chrono::Days::new(10)).await?;
        for fund in ["employment_subsidy_fund", "unemployment_insurance_fund"] {
            if let Some(b) = payments::create_batch(db, finance, fund, today).await? {
                payments::approve_batch(db, finance, b.batch_id).await?;
                paid += b.payments;
            }
        }
    }
    if let Some(c) = counties.get(1) {
        let scope = ClaimScope { county: Some(c.0.clone()), ..Default::default() };
        on_notice = payments::approve_and_publish_all(db, admin, &scope, today).await?;
    }
    Ok(format!("{filed} 笔补贴申请 claims: {paid} 已拨付 paid, {on_notice} 公示中 on notice, the rest awaiting review"))
}
