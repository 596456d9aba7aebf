//! Claims prepared by the system when a certificate is issued, decided by the policy engine from
//! a snapshot of the person's history; the decision and the snapshot are stored together.

use crate::auth::{Auth, CurrentUser};
use crate::error::AppError;
use crate::pages::{render_page, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Html;
use axum::Json;
use jineng_policy::Engine;
use jineng_store::claims::{self, ClaimRow, History, NewClaim};
use jineng_store::users::{Role, User};
use minijinja::{context, Value};
use serde_json::{json, Value as Json_};

/// The case (`jineng-case/1`) of one person's history with the given claims to decide.
pub fn case_of(h: &History, claims: Vec<Json_>) -> Json_ {
    let (id_number, name, county, rural) = &h.person;
    let groups: Vec<Json_> = h.groups.iter().map(|(g, from, to)| json!({"group": g, "from": from, "to": to})).collect();
    let trainings: Vec<Json_> = h
        .trainings
        .iter()
        .map(|t| {
            let days = (t.end_date - t.start_date).num_days() + 1;
            json!({"id": format!("e{}", t.enrolment_id), "person": id_number, "kind": t.kind, "occupation": t.occupation_code, "level": t.level,
                   "county": t.county_code, "provider": t.provider_code, "start": t.start_date, "end": t.end_date, "days": days,
                   "attended_days": t.attended.min(days), "in_system": matches!(t.status.as_str(), "approved" | "closed"), "project_based": false})
        })
        .collect();
    let certificates: Vec<Json_> = h
        .certificates
        .iter()
        .map(|c| {
            json!({"id": format!("c{}", c.certificate_id), "person": id_number, "training": format!("e{}", c.enrolment_id), "kind": c.kind,
                   "occupation": c.occupation_code, "level": c.level, "issued": c.issued_on, "serial": c.serial})
        })
        .collect();
    let granted: Vec<Json_> = h
        .granted
        .iter()
        .map(|g| {
            let cert = g.certificate_id.map(|c| format!("c{c}"));
            json!({"kind": g.kind, "person": id_number, "certificate": cert, "date": g.filed_on, "amount_fen": g.amount_fen})
        })
        .collect();
    json!({
        "format": "jineng-case/1",
        "name": format!("{name} 的申请"),
        "people": [{"id_number": id_number, "name": name, "hukou": county, "residence": county, "rural": rural,
                    "monthly_pension": false, "insured_since": null, "business_started": null, "groups": groups}],
        "trainings": trainings,
        "certificates": certificates,
        "granted": granted,
        "claims": claims,
    })
}

/// Prepares and decides the training subsidy for a certificate (idempotent: a second call returns
/// the claim already filed). Returns the claim id.
pub async fn prepare_for_certificate(
    st: &AppState,
    actor: Option<i64>,
    person_id: i64,
    certificate_id: i64,
) -> Result<i64, AppError> {
    let h = claims::history(&st.db, person_id).await?;
    let cert = h.certificates.iter().find(|c| c.certificate_id == certificate_id).ok_or(AppError::NotFound)?;
    let id_number = h.person.0.clone();
    let claim = json!({"id": format!("k{certificate_id}"), "kind": "training_subsidy", "filed": cert.issued_on, "person": id_number, "certificate": format!("c{certificate_id}")});
    let case = case_of(&h, vec![claim]);
    let text = case.to_string();
    let checked = jineng_policy::parse(&text)
        .map_err(|e| AppError::Internal(format!("snapshot of person {person_id} is not a valid case: {e}")))?;
    let params = crate::policy::effective_params(&st.db).await?;
    let region = jineng_store::plan::current_plan(&st.db).await?.plan.region_code.to_string();
    let decisions = Engine::new(&params, &region).decide(&checked);
    let d = decisions.first().ok_or_else(|| AppError::Internal("no decision".into()))?;
    let decision = serde_json::to_value(d).map_err(|e| AppError::Internal(e.to_string()))?;
    let new = NewClaim {
        idempotency_key: format!("training_subsidy:certificate:{certificate_id}"),
        kind: "training_subsidy".into(),
        person_id: Some(person_id),
        certificate_id: Some(certificate_id),
        county_code: h.person.2.clone(),
        filed_on: cert.issued_on,
        outcome: decision["outcome"].as_str().unwrap_or("rejected").into(),
        amount_fen: d.amount_fen,
        payee: decision["payee"].to_string(),
        fund: decision["fund"].as_str().unwrap_or_default().into(),
        decision: decision.to_string(),
        snapshot: text,
    };
    Ok(claims::file(&st.db, actor, &new).await?.0)
}

fn visible(u: &User) -> Result<(Option<String>, Option<i64>), AppError> {
    Ok(match u.role {
        Role::CityAdmin | Role::Finance | Role::Auditor => (None, None),
        Role::County => (Some(u.scope.clone().ok_or(AppError::Forbidden)?), None),
        Role::Worker => (None, Some(u.scope_id().ok_or(AppError::Forbidden)?)),
        _ => return Err(AppError::Forbidden),
    })
}

/// Claims visible to the caller, newest first, with their decisions.
#[utoipa::path(get, path = "/api/v1/claims", responses((status = 200, body = [ClaimRow])))]
pub async fn list_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
) -> Result<Json<Vec<ClaimRow>>, AppError> {
    let (county, person) = visible(&u)?;
    Ok(Json(claims::list(&st.db, county.as_deref(), person, 500).await?))
}

/// `GET /claims`
pub async fn list_page(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    let rows = async {
        let (county, person) = visible(&u)?;
        Ok::<_, AppError>(claims::list(&st.db, county.as_deref(), person, 500).await?)
    }
    .await
    .map_err(|e| PageError::new(e, auth.clone()))?;
    let rows: Vec<Json_> = rows
        .into_iter()
        .map(|r| {
            let decision: Json_ = serde_json::from_str(&r.decision).unwrap_or_default();
            json!({"claim_id": r.claim_id, "kind": r.kind, "person_name": r.person_name, "filed_on": r.filed_on, "status": r.status,
                   "outcome": r.outcome, "amount_fen": r.amount_fen, "payee": serde_json::from_str::<Json_>(&r.payee).unwrap_or_default(),
                   "fund": r.fund, "reasons": decision["reasons"], "clauses": decision["clauses"]})
        })
        .collect();
    render_page(&st, &auth, "claims.html", context! { rows => Value::from_serialize(&rows) })
}
