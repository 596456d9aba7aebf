//! Subsidy claims: what the policy engine decided, stored with the snapshot it decided from.
//! Filing the same claim twice (double click, retry, two clerks) yields one claim: the
//! idempotency key is unique and an insert that meets it returns the claim already there.

mod case;
pub mod filing;
pub mod hold;
pub mod past;
pub mod prepare;

pub use filing::{file_request, ClaimRequest, Filer};

use crate::audit::{self, Actor};
use crate::{now, on_tx, with_pool, Db, Result, StoreError, Tx};
use chrono::NaiveDate;
use serde::Serialize;

/// Which claims a caller may see and act on.
#[derive(Debug, Clone, Default)]
pub struct ClaimScope {
    /// Only claims reviewed by this county.
    pub county: Option<String>,
    /// Only this person's.
    pub person_id: Option<i64>,
    /// Only this employer's.
    pub employer_id: Option<i64>,
    /// Only this provider's.
    pub provider_id: Option<i64>,
    /// Show people's names masked (张*三): for employers and providers, who file by ID number
    /// and must not learn the registry's name for any number they type.
    pub names_masked: bool,
}

impl ClaimScope {
    /// The scope's conditions on `$1..$4` (bound by [`bind_claim_scope`]): only those it sets
    /// filter, so that the index of each applies.
    pub(crate) fn sql(&self) -> String {
        self.sql_from(1)
    }

    /// [`ClaimScope::sql`] with its four placeholders starting at `$first`.
    pub(crate) fn sql_from(&self, first: usize) -> String {
        use crate::opt_eq;
        [
            opt_eq("c.county_code", first, self.county.as_deref().is_some_and(|c| !c.is_empty()), "''"),
            opt_eq("c.person_id", first + 1, self.person_id.is_some_and(|i| i != 0), "0"),
            opt_eq("c.employer_id", first + 2, self.employer_id.is_some_and(|i| i != 0), "0"),
            opt_eq("c.provider_id", first + 3, self.provider_id.is_some_and(|i| i != 0), "0"),
        ]
        .join(" AND ")
    }
}

/// Binds a [`ClaimScope`] as `$1..$4`.
macro_rules! bind_claim_scope {
    ($q:expr, $s:expr) => {
        $q.bind($s.county.clone().unwrap_or_default())
            .bind($s.person_id.unwrap_or(0))
            .bind($s.employer_id.unwrap_or(0))
            .bind($s.provider_id.unwrap_or(0))
    };
}

pub(crate) use bind_claim_scope;

/// A decided claim to store.
#[derive(Debug, Clone)]
pub struct NewClaim {
    /// Unique per claim, e.g. `training_subsidy:certificate:42`.
    pub idempotency_key: String,
    /// Claim kind (the contract's code).
    pub kind: String,
    pub person_id: Option<i64>,
    pub certificate_id: Option<i64>,
    /// County whose office reviews it.
    pub county_code: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    pub outcome: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Payee (JSON).
    pub payee: String,
    pub fund: String,
    /// The decision (JSON).
    pub decision: String,
    /// The case it was decided from (JSON).
    pub snapshot: String,
    /// Employer (employer claims).
    pub employer_id: Option<i64>,
    /// Provider (project claims).
    pub provider_id: Option<i64>,
    /// Project (project claims): the class it pays for.
    pub project_ref: Option<String>,
    /// What was asked (JSON), for claims filed by employers and providers.
    pub request: Option<String>,
    /// The user who filed it (None: prepared by the system).
    pub filed_by: Option<i64>,
    /// The declared facts it rests on (JSON list of [`hold::HeldFact`]); Some: it is stored
    /// held, `needs_verification`.
    pub held_for: Option<String>,
    /// The facility an equipment grant is for.
    pub facility_id: Option<i64>,
    /// A project settlement: the certificates whose training subsidies it paid.
    pub covers: Vec<i64>,
}

impl NewClaim {
    /// The status it is stored with.
    pub(crate) fn status(&self) -> &'static str {
        if self.held_for.is_some() {
            "needs_verification"
        } else {
            "decided"
        }
    }
}

impl NewClaim {
    /// A claim as the policy decided it, not yet tied to a person, employer or provider.
    pub(crate) fn decided(
        key: String,
        kind: &str,
        county: &str,
        filed_on: NaiveDate,
        snapshot: &str,
        d: &case::Decided,
    ) -> NewClaim {
        NewClaim {
            idempotency_key: key,
            kind: kind.into(),
            person_id: None,
            certificate_id: None,
            county_code: county.into(),
            filed_on,
            outcome: d.outcome.code().into(),
            amount_fen: d.amount_fen,
            payee: d.payee.clone(),
            fund: d.fund.code().into(),
            decision: d.json.clone(),
            snapshot: snapshot.into(),
            employer_id: None,
            provider_id: None,
            project_ref: None,
            request: None,
            filed_by: None,
            held_for: None,
            facility_id: None,
            covers: d.certificates_paid.clone(),
        }
    }
}

/// The credit codes of the employers one history refers to.
pub(crate) fn employer_codes(h: &History) -> std::collections::BTreeSet<String> {
    let trainings = h.trainings.iter().filter_map(|t| t.employer_code.clone());
    let granted = h.granted.iter().filter_map(|g| g.employer_code.clone());
    trainings.chain(granted).chain(h.employments.iter().map(|e| e.employer_code.clone())).collect()
}

/// A claim as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ClaimRow {
    pub claim_id: i64,
    pub kind: String,
    pub person_id: Option<i64>,
    /// Person's name.
    pub person_name: Option<String>,
    pub county_code: String,
    /// Filed on.
    pub filed_on: NaiveDate,
    pub status: String,
    pub outcome: String,
    /// Amount, fen.
    pub amount_fen: i64,
    /// Payee (JSON).
    pub payee: String,
    pub fund: String,
    /// Decision (JSON).
    pub decision: String,
    /// Payee's name (person, employer or provider).
    pub payee_name: Option<String>,
    pub employer_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub certificate_id: Option<i64>,
    /// First day of the public notice.
    pub notice_from: Option<NaiveDate>,
    /// Last day of the public notice.
    pub notice_until: Option<NaiveDate>,
    /// Open objections.
    pub open_objections: i64,
    /// The declared facts it is held for (JSON list), while `needs_verification`.
    pub held_for: Option<String>,
}

impl ClaimRow {
    /// The claim as it leaves the store: a person's ID number in the payee and the decision is
    /// masked (payments are made from the stored claim, never from what a page shows).
    fn masked(mut self, names: bool) -> Self {
        if names {
            self.person_name = self.person_name.map(|n| jineng_domain::name::mask(&n));
            if self.employer_id.is_none() && self.provider_id.is_none() {
                self.payee_name = self.payee_name.map(|n| jineng_domain::name::mask(&n));
            }
        }
        self.payee = mask_person_ids(&self.payee);
        self.decision = mask_person_ids(&self.decision);
        self
    }
}

/// `json` with the value of every `"person"` key that is a string (a payee's ID number, in a
/// payee or in a decision) masked: one pass over the text, no parse (a list page masks every
/// row it shows). Anything else in the text is left as it was.
fn mask_person_ids(json: &str) -> String {
    const KEY: &str = "\"person\"";
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find(KEY) {
        let after = at + KEY.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let value = rest.trim_start();
        let Some(value) = value.strip_prefix(':').map(str::trim_start) else { continue };
        let Some(body) = value.strip_prefix('"') else { continue };
        // An ID number holds no quote or escape; a value that does is masked up to its end.
        let end =
            body.char_indices().find(|&(i, c)| c == '"' && !body[..i].ends_with('\\')).map_or(body.len(), |(i, _)| i);
        out.push_str(&rest[..rest.len() - body.len()]);
        out.push_str(&jineng_domain::id_number::mask(&body[..end]));
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// The columns a new claim fills, in the order both insert paths bind them.
const INSERT: &str = "INSERT INTO claim (idempotency_key, kind, person_id, certificate_id, county_code, filed_on, status, outcome, \
     amount_fen, payee, fund, decision, snapshot, created_at, employer_id, provider_id, project_ref, request, filed_by, held_for, facility_id) ";

/// Stores a decided claim; returns its id and whether it is new (false: the key existed).
pub async fn file(tx: &mut Tx, actor: Actor, c: &NewClaim) -> Result<(i64, bool)> {
    let inserted: Option<i64> = on_tx!(tx, |c_| {
        let sql = format!(
            "{INSERT} VALUES ($1, $2, $3, $4, $5, $6, $19, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $20, $21) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING claim_id"
        );
        let id: Option<i64> = sqlx::query_scalar(&sql)
            .bind(&c.idempotency_key)
            .bind(&c.kind)
            .bind(c.person_id)
            .bind(c.certificate_id)
            .bind(&c.county_code)
            .bind(c.filed_on)
            .bind(&c.outcome)
            .bind(c.amount_fen)
            .bind(&c.payee)
            .bind(&c.fund)
            .bind(&c.decision)
            .bind(&c.snapshot)
            .bind(now())
            .bind(c.employer_id)
            .bind(c.provider_id)
            .bind(&c.project_ref)
            .bind(&c.request)
            .bind(c.filed_by)
            .bind(c.status())
            .bind(&c.held_for)
            .bind(c.facility_id)
            .fetch_optional(&mut **c_)
            .await?;
        if let (Some(id), false) = (id, c.covers.is_empty()) {
            let list = c.covers.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            sqlx::query(&format!(
                "INSERT INTO claim_cover (claim_id, person_id, certificate_id) \
                 SELECT $1, person_id, certificate_id FROM certificate WHERE certificate_id IN ({list})"
            ))
            .bind(id)
            .execute(&mut **c_)
            .await?;
        }
        if let Some(id) = id {
            audit::record(
                &mut **c_,
                actor,
                "decide",
                "claim",
                &id.to_string(),
                &serde_json::json!({"kind": c.kind, "outcome": c.outcome, "amount_fen": c.amount_fen, "status": c.status()}),
            )
            .await?;
        }
        id
    });
    match inserted {
        Some(id) => Ok((id, true)),
        None => {
            let id: i64 = on_tx!(tx, |c_| sqlx::query_scalar("SELECT claim_id FROM claim WHERE idempotency_key = $1")
                .bind(&c.idempotency_key)
                .fetch_one(&mut **c_)
                .await?);
            Ok((id, false))
        }
    }
}

const SELECT: &str =
    "SELECT c.claim_id, c.kind, c.person_id, p.name AS person_name, c.county_code, c.filed_on, c.status, c.outcome, \
     c.amount_fen, c.payee, c.fund, c.decision, COALESCE(e.name, v.name, p.name) AS payee_name, c.employer_id, c.provider_id, \
     c.certificate_id, c.notice_from, c.notice_until, \
     CAST(COALESCE(o.n_open, 0) AS BIGINT) AS open_objections, c.held_for \
     FROM claim c LEFT JOIN person p ON p.person_id = c.person_id \
     LEFT JOIN (SELECT claim_id, COUNT(*) AS n_open FROM objection WHERE status = 'open' GROUP BY claim_id) o ON o.claim_id = c.claim_id \
     LEFT JOIN employer e ON e.employer_id = c.employer_id LEFT JOIN provider v ON v.provider_id = c.provider_id";

/// Which claims a list shows.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Rows per page.
    pub limit: i64,
    /// Only claims older than this one (the next page starts after the last claim shown).
    pub before: Option<i64>,
}

pub use crate::Page;

/// Claims in the scope, optionally of one status, newest first.
pub async fn list(db: &Db, scope: &ClaimScope, status: Option<&str>, limit: i64) -> Result<Vec<ClaimRow>> {
    let f = ClaimFilter { status: status.map(str::to_owned), limit, ..Default::default() };
    Ok(page(db, scope, &f).await?.rows)
}

/// One page of the claims in the scope that pass the filter, newest first.
pub async fn page(db: &Db, scope: &ClaimScope, f: &ClaimFilter) -> Result<Page<ClaimRow>> {
    use crate::opt_eq;
    let status = f.status.clone().filter(|s| !s.is_empty());
    let kind = f.kind.clone().filter(|s| !s.is_empty());
    let filter = format!(
        "{} AND {} AND {} AND {}",
        scope.sql(),
        opt_eq("c.status", 5, status.is_some(), "''"),
        opt_eq("c.kind", 6, kind.is_some(), "''"),
        if f.before.is_some() { "c.claim_id < $7" } else { "$7 = 0" },
    );
    let sql = format!("{SELECT} WHERE {filter} ORDER BY c.claim_id DESC LIMIT $8");
    let limit = f.limit.max(1);
    let mut rows: Vec<ClaimRow> = with_pool!(db, |p| {
        bind_claim_scope!(sqlx::query_as(&sql), scope)
            .bind(status.clone().unwrap_or_default())
            .bind(kind.clone().unwrap_or_default())
            .bind(f.before.unwrap_or(0))
            .bind(limit + 1)
            .fetch_all(p)
            .await?
    });
    rows = rows.into_iter().map(|r| r.masked(scope.names_masked)).collect();
    Ok(Page::of(rows, limit, |r| r.claim_id))
}

/// One claim in the scope.
pub async fn get(db: &Db, scope: &ClaimScope, claim_id: i64) -> Result<ClaimRow> {
    let sql = format!("{SELECT} WHERE c.claim_id = $1 AND {}", scope.sql_from(2));
    with_pool!(db, |p| sqlx::query_as(&sql)
        .bind(claim_id)
        .bind(scope.county.clone().unwrap_or_default())
        .bind(scope.person_id.unwrap_or(0))
        .bind(scope.employer_id.unwrap_or(0))
        .bind(scope.provider_id.unwrap_or(0))
        .fetch_optional(p)
        .await?)
    .map(|r: ClaimRow| r.masked(scope.names_masked))
    .ok_or(StoreError::NotFound)
}

/// The snapshot a claim was decided from.
pub async fn snapshot(db: &Db, claim_id: i64) -> Result<String> {
    with_pool!(db, |p| sqlx::query_scalar::<_, String>("SELECT snapshot FROM claim WHERE claim_id = $1")
        .bind(claim_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The rules the engine checked for a stored claim, in order, each with its clause and whether
/// it passed: the claim's snapshot decided again with the parameters it was decided with.
/// `None` when that no longer gives the stored decision (see [`case::trace`]).
pub async fn trace(db: &Db, row: &ClaimRow) -> Result<Option<Vec<jineng_policy::decision::Check>>> {
    let decision: serde_json::Value = serde_json::from_str(&row.decision).unwrap_or_default();
    let Some(claim) = decision["claim"].as_str() else { return Ok(None) };
    let snapshot = snapshot(db, row.claim_id).await?;
    let params = crate::parameters::effective(db).await?;
    let region = crate::parameters::region(db).await?;
    Ok(case::trace(&snapshot, claim, &row.outcome, row.amount_fen, &params, &region))
}

/// What the engine needs to know about one person: the rows of their history.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The person.
    pub person: PersonFact,
    /// Priority-group memberships, with their sources.
    pub groups: Vec<GroupFact>,
    pub trainings: Vec<TrainingFact>,
    pub certificates: Vec<CertificateFact>,
    /// Subsidies already granted (approved or reduced claims not rejected on review).
    pub granted: Vec<GrantedFact>,
    pub employments: Vec<EmploymentFact>,
}

/// The person's own facts.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PersonFact {
    pub person_id: i64,
    /// ID number.
    pub id_number: String,
    pub name: String,
    /// County (hukou and residence as registered).
    pub county_code: String,
    /// Rural hukou.
    pub rural: bool,
    /// Start of continuous unemployment insurance.
    pub insured_since: Option<NaiveDate>,
    /// Receives a monthly pension.
    pub monthly_pension: bool,
    /// Hukou county, when an authority or the county recorded one apart from residence.
    pub hukou_county: Option<String>,
    /// County of work, if recorded.
    pub work_county: Option<String>,
    /// The person's own business started on (market regulation's register; P8).
    pub business_started: Option<NaiveDate>,
    /// Source of the rural-hukou fact in force (None: never stated by anyone).
    pub rural_source: Option<String>,
    /// Source of the insured-since fact in force.
    pub insured_source: Option<String>,
}

/// A priority-group membership and where it comes from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupFact {
    pub person_id: i64,
    pub person_group_id: i64,
    pub group_code: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
    /// `poverty_roster`, `county_verified`, `declared`, …
    pub source: String,
}

/// One training of the person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrainingFact {
    pub person_id: i64,
    /// Enrolment id.
    pub enrolment_id: i64,
    pub class_id: i64,
    pub kind: String,
    pub occupation_code: String,
    pub level: Option<i64>,
    /// County held.
    pub county_code: String,
    /// Provider credit code.
    pub provider_code: String,
    /// Employer trained for (pre-job, apprenticeship).
    pub employer_code: Option<String>,
    /// Project-based class (paid to the provider by settlement).
    pub project_based: bool,
    /// The catalog project's published standard (fen), if the class belongs to one.
    pub standard_fen: Option<i64>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Training days of the class, when fewer than its calendar span.
    pub training_days: Option<i64>,
    /// Class status (approved classes are "in the system").
    pub status: String,
    /// Days checked in.
    pub attended: i64,
}

/// One certificate of the person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateFact {
    pub person_id: i64,
    pub certificate_id: i64,
    /// The enrolment (training) it came from; None: a certificate from the appraisal register,
    /// of no class of the system.
    pub enrolment_id: Option<i64>,
    pub kind: String,
    pub occupation_code: String,
    pub level: Option<i64>,
    /// Issued on.
    pub issued_on: NaiveDate,
    pub serial: String,
}

/// A subsidy granted before.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GrantedFact {
    pub person_id: i64,
    pub kind: String,
    pub certificate_id: Option<i64>,
    /// Employer credit code.
    pub employer_code: Option<String>,
    /// Filed on.
    pub filed_on: NaiveDate,
    pub amount_fen: i64,
    /// The request (JSON), e.g. months of an on-the-job claim.
    pub request: Option<String>,
}

/// One employment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmploymentFact {
    pub person_id: i64,
    /// The record (None: declared with the claim being filed, not stored yet).
    pub employment_id: Option<i64>,
    /// `social_insurance`, `county_verified`, `declared`, …
    pub source: String,
    /// Employer credit code.
    pub employer_code: String,
    pub from_date: NaiveDate,
    pub to_date: Option<NaiveDate>,
}

/// An employer as the engine sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmployerFact {
    pub employer_id: i64,
    /// Credit code.
    pub credit_code: String,
    pub name: String,
    pub kind: String,
    /// Pays unemployment insurance.
    pub insured: bool,
    pub county_code: String,
}

/// The rows of a chunk of histories.
type Rows = (
    Vec<PersonFact>,
    Vec<GroupFact>,
    Vec<TrainingFact>,
    Vec<CertificateFact>,
    Vec<GrantedFact>,
    Vec<EmploymentFact>,
    Vec<(i64, String, String)>,
);

/// The history of one person, read in one go.
pub async fn history(tx: &mut Tx, person_id: i64) -> Result<History> {
    histories(tx, &[person_id]).await?.pop().ok_or(StoreError::NotFound)
}

/// The histories of many people, read with a few queries per thousand people (the batch path
/// from certificates to decided claims). Unknown ids are left out; order follows `person_ids`.
pub async fn histories(tx: &mut Tx, person_ids: &[i64]) -> Result<Vec<History>> {
    let mut out: Vec<History> = Vec::with_capacity(person_ids.len());
    for chunk in person_ids.chunks(1000) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let (people, groups, trainings, certificates, granted, employments, sources): Rows = on_tx!(tx, |c| {
            let people = sqlx::query_as(&format!(
                "SELECT p.person_id, p.id_number, p.name, p.county_code, p.rural, p.insured_since, p.monthly_pension, \
                 p.hukou_county, p.work_county, p.business_started, CAST(NULL AS TEXT) AS rural_source, CAST(NULL AS TEXT) AS insured_source \
                 FROM person p WHERE p.person_id IN ({list})"
            ))
            .fetch_all(&mut **c)
            .await?;
            let groups = sqlx::query_as(&format!(
                "SELECT person_id, person_group_id, group_code, from_date, to_date, source FROM person_group WHERE person_id IN ({list})"
            ))
            .fetch_all(&mut **c)
            .await?;
            // The sources of the one-valued facts the holds read, oldest first (the last wins).
            let sources: Vec<(i64, String, String)> = sqlx::query_as(&format!(
                "SELECT person_id, fact, source FROM person_fact WHERE person_id IN ({list}) \
                 AND fact IN ('rural', 'insured_since') ORDER BY person_fact_id"
            ))
            .fetch_all(&mut **c)
            .await?;
            let trainings = sqlx::query_as(&format!(
                "SELECT e.person_id, e.enrolment_id, e.class_id, k.kind, k.occupation_code, k.level, k.county_code, v.credit_code AS provider_code, \
                 m.credit_code AS employer_code, k.project_based, s.subsidy_fen AS standard_fen, k.start_date, k.end_date, k.training_days, k.status, \
                 (SELECT COUNT(*) FROM attendance a WHERE a.enrolment_id = e.enrolment_id) AS attended \
                 FROM enrolment e JOIN training_class k ON k.class_id = e.class_id JOIN provider v ON v.provider_id = k.provider_id \
                 LEFT JOIN employer m ON m.employer_id = k.employer_id \
                 LEFT JOIN subsidy_project s ON s.subsidy_project_id = k.subsidy_project_id WHERE e.person_id IN ({list})"
            ))
            .fetch_all(&mut **c)
            .await?;
            let certificates = sqlx::query_as(&format!(
                "SELECT c.person_id, c.certificate_id, a.enrolment_id, c.kind, c.occupation_code, c.level, c.issued_on, c.serial \
                 FROM certificate c LEFT JOIN assessment a ON a.assessment_id = c.assessment_id WHERE c.person_id IN ({list})"
            ))
            .fetch_all(&mut **c)
            .await?;
            let granted = sqlx::query_as(&format!(
                "SELECT c.person_id, c.kind, c.certificate_id, m.credit_code AS employer_code, c.filed_on, c.amount_fen, c.request FROM claim c \
                 LEFT JOIN employer m ON m.employer_id = c.employer_id \
                 WHERE c.person_id IN ({list}) AND c.outcome IN ('approved', 'reduced') AND c.status <> 'rejected' \
                 UNION ALL \
                 SELECT v.person_id, 'training_subsidy' AS kind, v.certificate_id, CAST(NULL AS TEXT) AS employer_code, t.issued_on AS filed_on, \
                 CAST(0 AS BIGINT) AS amount_fen, CAST(NULL AS TEXT) AS request FROM claim_cover v JOIN claim c ON c.claim_id = v.claim_id \
                 JOIN certificate t ON t.certificate_id = v.certificate_id \
                 WHERE v.person_id IN ({list}) AND c.status <> 'rejected'"
            ))
            .fetch_all(&mut **c)
            .await?;
            let employments = sqlx::query_as(&format!(
                "SELECT y.person_id, y.employment_id, y.source, m.credit_code AS employer_code, y.from_date, y.to_date FROM employment y \
                 JOIN employer m ON m.employer_id = y.employer_id WHERE y.person_id IN ({list})"
            ))
            .fetch_all(&mut **c)
            .await?;
            (people, groups, trainings, certificates, granted, employments, sources)
        });
        let mut at = std::collections::HashMap::with_capacity(chunk.len());
        let mut by_id: std::collections::HashMap<i64, PersonFact> =
            people.into_iter().map(|p| (p.person_id, p)).collect();
        for id in chunk {
            if let Some(person) = by_id.remove(id) {
                at.insert(*id, out.len());
                out.push(History { person, ..Default::default() });
            }
        }
        for g in groups {
            if let Some(&i) = at.get(&g.person_id) {
                out[i].groups.push(g);
            }
        }
        for (pid, fact, source) in sources {
            if let Some(&i) = at.get(&pid) {
                let p = &mut out[i].person;
                match fact.as_str() {
                    "rural" => p.rural_source = Some(source),
                    _ => p.insured_source = Some(source),
                }
            }
        }
        for t in trainings {
            if let Some(&i) = at.get(&t.person_id) {
                out[i].trainings.push(t);
            }
        }
        for c in certificates {
            if let Some(&i) = at.get(&c.person_id) {
                out[i].certificates.push(c);
            }
        }
        for g in granted {
            if let Some(&i) = at.get(&g.person_id) {
                out[i].granted.push(g);
            }
        }
        for e in employments {
            if let Some(&i) = at.get(&e.person_id) {
                out[i].employments.push(e);
            }
        }
    }
    for h in &mut out {
        h.trainings.sort_by_key(|t| t.enrolment_id);
        h.certificates.sort_by_key(|c| c.certificate_id);
    }
    Ok(out)
}

/// Employers by credit code (for the case's `employers`).
pub async fn employers_by_code(tx: &mut Tx, codes: &[String]) -> Result<Vec<EmployerFact>> {
    let mut out = Vec::new();
    for part in codes.chunks(1000) {
        let rows: Vec<EmployerFact> = on_tx!(tx, |c| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT employer_id, credit_code, name, kind, insured, county_code FROM employer WHERE credit_code IN (",
            );
            let mut list = qb.separated(", ");
            for code in part {
                list.push_bind(code);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Stores decided claims in one transaction (the batch path), many rows per statement; a claim
/// whose idempotency key exists is left as it is. Returns how many were new.
pub async fn file_many(tx: &mut Tx, actor: Actor, claims: &[NewClaim]) -> Result<usize> {
    let t = now();
    Ok(on_tx!(tx, |c| {
        let mut n = 0;
        for part in claims.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::new(INSERT);
            qb.push_values(part, |mut b, c| {
                b.push_bind(&c.idempotency_key)
                    .push_bind(&c.kind)
                    .push_bind(c.person_id)
                    .push_bind(c.certificate_id)
                    .push_bind(&c.county_code)
                    .push_bind(c.filed_on)
                    .push_bind(c.status())
                    .push_bind(&c.outcome)
                    .push_bind(c.amount_fen)
                    .push_bind(&c.payee)
                    .push_bind(&c.fund)
                    .push_bind(&c.decision)
                    .push_bind(&c.snapshot)
                    .push_bind(t)
                    .push_bind(c.employer_id)
                    .push_bind(c.provider_id)
                    .push_bind(&c.project_ref)
                    .push_bind(&c.request)
                    .push_bind(c.filed_by)
                    .push_bind(&c.held_for)
                    .push_bind(c.facility_id);
            });
            qb.push(" ON CONFLICT (idempotency_key) DO NOTHING");
            n += qb.build().execute(&mut **c).await?.rows_affected() as usize;
        }
        audit::record(
            &mut **c,
            actor,
            "decide_batch",
            "claim",
            "*",
            &serde_json::json!({"claims": claims.len(), "new": n}),
        )
        .await?;
        n
    }))
}

/// The claim filed under an idempotency key, if any.
pub async fn by_key(tx: &mut Tx, key: &str) -> Result<Option<i64>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("SELECT claim_id FROM claim WHERE idempotency_key = $1")
        .bind(key)
        .fetch_optional(&mut **c)
        .await?))
}

/// An employer's credit code and county.
pub async fn employer_code(db: &Db, employer_id: i64) -> Result<(String, String)> {
    with_pool!(db, |p| sqlx::query_as("SELECT credit_code, county_code FROM employer WHERE employer_id = $1")
        .bind(employer_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The claim stored under an idempotency key, if any (outside a transaction).
pub async fn by_key_db(db: &Db, key: &str) -> Result<Option<i64>> {
    Ok(with_pool!(db, |p| sqlx::query_scalar("SELECT claim_id FROM claim WHERE idempotency_key = $1")
        .bind(key)
        .fetch_optional(p)
        .await?))
}

/// A provider's credit code.
pub async fn provider_code(db: &Db, provider_id: i64) -> Result<String> {
    with_pool!(db, |p| sqlx::query_scalar("SELECT credit_code FROM provider WHERE provider_id = $1")
        .bind(provider_id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// A class of a project, with what bounds the project's claims.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectClass {
    pub class_id: i64,
    pub provider_id: i64,
    /// The enterprise it trains for (an enterprise's own project: the organiser).
    pub employer_id: Option<i64>,
    pub county_code: String,
    pub project_based: bool,
    /// The catalog project's published standard per trainee (fen), if the class belongs to one.
    pub standard: Option<i64>,
    /// The class's share of the project's contract sum (fen), as approved.
    pub contract_fen: Option<i64>,
    /// The project number (None: the class is a project of its own).
    pub project_code: Option<String>,
    /// Trainees enrolled.
    pub trainees: i64,
}

impl ProjectClass {
    /// What the approved class is worth: its contract share, and no more than its trainees at
    /// the catalog standard where the class has one (nothing when it states neither).
    pub fn bound(&self) -> i64 {
        let by_standard = self.standard.map(|s| s.saturating_mul(self.trainees));
        match (self.contract_fen, by_standard) {
            (Some(c), Some(s)) => c.min(s),
            (Some(c), None) => c,
            (None, Some(s)) => s,
            (None, None) => 0,
        }
    }
}

const PROJECT_CLASS: &str =
    "SELECT k.class_id, k.provider_id, k.employer_id, k.county_code, k.project_based, s.subsidy_fen AS standard, \
     k.contract_fen, k.project_code, (SELECT COUNT(*) FROM enrolment e WHERE e.class_id = k.class_id) AS trainees \
     FROM training_class k LEFT JOIN subsidy_project s ON s.subsidy_project_id = k.subsidy_project_id";

/// The project a class belongs to, for its organiser: the project's reference and its classes
/// (by class id), the asked class first when it is a project of its own. `by_employer`: the
/// enterprise's own project (its classes name the employer), else the provider's. None: no
/// such class.
pub async fn project_of(db: &Db, class_id: i64, by_employer: bool) -> Result<Option<(String, Vec<ProjectClass>)>> {
    let class: Option<ProjectClass> =
        with_pool!(db, |p| sqlx::query_as(&format!("{PROJECT_CLASS} WHERE k.class_id = $1"))
            .bind(class_id)
            .fetch_optional(p)
            .await?);
    let Some(class) = class else { return Ok(None) };
    let Some(code) = class.project_code.clone() else {
        return Ok(Some((format!("class-{class_id}"), vec![class])));
    };
    let (organiser, id) = match (by_employer, class.employer_id) {
        (true, Some(e)) => ("e", e),
        _ => ("p", class.provider_id),
    };
    let column = if organiser == "e" { "k.employer_id" } else { "k.provider_id" };
    let classes: Vec<ProjectClass> = with_pool!(db, |p| sqlx::query_as(&format!(
        "{PROJECT_CLASS} WHERE k.project_code = $1 AND {column} = $2 AND k.project_based ORDER BY k.class_id"
    ))
    .bind(&code)
    .bind(id)
    .fetch_all(p)
    .await?);
    let organiser = if organiser == "e" { 'e' } else { 'p' };
    Ok(Some((past::project_ref(organiser, id, &code), classes)))
}

/// The trainees of some classes: (person, enrolment), by class then enrolment order.
pub async fn classes_trainees(db: &Db, class_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for id in class_ids {
        out.extend(class_trainees(db, *id).await?);
    }
    Ok(out)
}

/// The trainees of a class: (person, enrolment), in enrolment order.
pub async fn class_trainees(db: &Db, class_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT person_id, enrolment_id FROM enrolment WHERE class_id = $1 ORDER BY enrolment_id"
    )
    .bind(class_id)
    .fetch_all(p)
    .await?))
}

/// The project claims granted for `project` before (request JSON, filed on, amount) and whether
/// a settlement was filed (whatever its outcome, it closes the project).
pub async fn project_history(tx: &mut Tx, project: &str) -> Result<(Vec<(Option<String>, NaiveDate, i64)>, bool)> {
    Ok(on_tx!(tx, |c| {
        let granted = sqlx::query_as(
            "SELECT request, filed_on, amount_fen FROM claim WHERE project_ref = $1 AND kind = 'project_training' \
             AND outcome IN ('approved', 'reduced') AND status <> 'rejected'",
        )
        .bind(project)
        .fetch_all(&mut **c)
        .await?;
        let settled: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM claim WHERE project_ref = $1 AND kind = 'project_training' AND status <> 'rejected' \
             AND request LIKE '%\"stage\":\"settlement\"%'",
        )
        .bind(project)
        .fetch_one(&mut **c)
        .await?;
        (granted, settled > 0)
    }))
}

/// The equipment grants a facility had (filed on, amount): decided to pay, not rejected since.
pub async fn facility_grants(tx: &mut Tx, facility_id: i64) -> Result<Vec<(NaiveDate, i64)>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT filed_on, amount_fen FROM claim WHERE facility_id = $1 AND kind = 'equipment_grant' \
         AND outcome IN ('approved', 'reduced') AND status <> 'rejected'"
    )
    .bind(facility_id)
    .fetch_all(&mut **c)
    .await?))
}

/// Locks what the rules count for these people until `tx` ends, so that deciding their claims
/// and storing the decisions happen one at a time: a row lock on PostgreSQL; on SQLite, this
/// write (the first statement of the transaction) takes the database's write lock at once.
/// Ids are locked in ascending order.
pub async fn lock_people(tx: &mut Tx, person_ids: &[i64]) -> Result<()> {
    let mut ids = person_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for part in ids.chunks(1000) {
        let list = part.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("UPDATE person SET person_id = person_id WHERE person_id IN ({list})");
        on_tx!(tx, |c| {
            sqlx::query(&sql).execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Locks an employer's row until `tx` ends (its caps: pre-job against on-the-job, one grant per
/// facility), after the people's rows.
pub async fn lock_employer(tx: &mut Tx, employer_id: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE employer SET employer_id = employer_id WHERE employer_id = $1")
        .bind(employer_id)
        .execute(&mut **c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Locks a class's row until `tx` ends (a project's one advance and one settlement, S9).
pub async fn lock_class(tx: &mut Tx, class_id: i64) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("UPDATE training_class SET class_id = class_id WHERE class_id = $1")
        .bind(class_id)
        .execute(&mut **c)
        .await
        .map(|_| ())?);
    Ok(())
}

/// Claims per kind and outcome (for benchmarks and reports).
pub async fn count_by_kind(db: &Db) -> Result<Vec<(String, String, i64)>> {
    Ok(with_pool!(db, |p| sqlx::query_as(
        "SELECT kind, outcome, COUNT(*) FROM claim GROUP BY kind, outcome ORDER BY kind, outcome"
    )
    .fetch_all(p)
    .await?))
}

#[cfg(test)]
mod tests {
    use super::mask_person_ids;

    #[test]
    fn a_payees_id_number_is_masked_wherever_a_person_key_holds_it_and_nothing_else_changes() {
        let id = "410102199003071234";
        let payee = format!(r#"{{"person":"{id}"}}"#);
        assert_eq!(mask_person_ids(&payee), r#"{"person":"4101**********1234"}"#);
        // In a decision: the payee's and any other `person` key; spaces as a pretty printer puts them.
        let decision = format!(
            r#"{{"claim":"x","payee":{{"person" : "{id}"}},"reasons":["person"],"covers":[{{"person":"{id}"}}],"kind":"person"}}"#
        );
        let masked = mask_person_ids(&decision);
        assert!(!masked.contains(id), "{masked}");
        assert_eq!(masked.matches("4101**********1234").count(), 2, "{masked}");
        assert!(masked.contains(r#""reasons":["person"]"#) && masked.ends_with(r#""kind":"person"}"#), "{masked}");
        // The same value read as JSON: only the two ID numbers differ.
        let (a, b): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&decision).unwrap(), serde_json::from_str(&masked).unwrap());
        assert_eq!(a["claim"], b["claim"]);
        assert_eq!(b["payee"]["person"], "4101**********1234");
        // A provider or employer payee, or no payee, is left as it was.
        for s in [r#"{"provider":"9141172200001AGQKD"}"#, r#"{"person":null}"#, "", r#""person""#] {
            assert_eq!(mask_person_ids(s), s);
        }
    }
}
