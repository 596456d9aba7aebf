//! Assessments (考核发证): a listed assessment body records the results of an approved class; a
//! pass completes the training and issues the certificate, which brings the claims the policy allows.

use crate::auth::{Auth, CurrentUser};
use crate::classes::page::back_to_class_at;
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::PageError;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jineng_domain::Role;
use jineng_store::assessment::Trainee;
use jineng_store::training;
use jineng_store::users::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An assessment result.
#[derive(Deserialize, ToSchema)]
pub struct AssessmentBody {
    /// The trainee's ID number.
    pub id_number: String,
    /// Date assessed (YYYY-MM-DD); the certificate's issue date when passed.
    pub assessed_on: String,
    /// Score 0–100.
    pub score: Option<i64>,
    pub passed: bool,
    /// Certificate kind when passed: qualification | skill_level | special_ability | special_operation | training_completion.
    #[serde(default)]
    pub kind: String,
    /// Certificate serial (unique per body) when passed.
    #[serde(default)]
    pub serial: String,
    /// The certificate's occupation, when the body certified another than the class trains for.
    #[serde(default)]
    pub occupation_code: Option<String>,
    /// The certificate's level (with `occupation_code`, or alone: a level the class did not aim at).
    #[serde(default)]
    pub level: Option<u8>,
}

/// The certificate issued, if any.
#[derive(Serialize, ToSchema)]
pub struct Assessed {
    /// Certificate id (none when failed).
    pub certificate_id: Option<i64>,
}

async fn assess(st: &AppState, u: &User, class_id: i64, b: &AssessmentBody) -> Result<Option<i64>, AppError> {
    let id_number = jineng_domain::IdNumber::parse(&b.id_number).map_err(|e| AppError::field("id_number", e))?;
    record(st, u, class_id, Trainee::IdNumber(id_number), b).await
}

/// Records a result for `trainee` as the calling assessment body.
async fn record(
    st: &AppState,
    u: &User,
    class_id: i64,
    trainee: Trainee,
    b: &AssessmentBody,
) -> Result<Option<i64>, AppError> {
    let body_id = match u.role {
        Role::AssessmentBody => u.scope_id().ok_or(AppError::Forbidden)?,
        _ => return Err(AppError::Forbidden),
    };
    let assessed_on = b
        .assessed_on
        .trim()
        .parse()
        .map_err(|_| AppError::field("assessed_on", "日期格式应为 YYYY-MM-DD / a date as YYYY-MM-DD"))?;
    let r = jineng_store::assessment::Result_ {
        trainee,
        assessed_on,
        score: b.score,
        passed: b.passed,
        kind: b.kind.trim().into(),
        serial: b.serial.clone(),
        certified_as: (b.occupation_code.is_some() || b.level.is_some()).then(|| (b.occupation_code.clone(), b.level)),
    };
    let done = jineng_store::assessment::record(&st.db, Some(u.user_id), body_id, class_id, &r).await?;
    if let Some(cert) = done.certificate {
        // A certificate from a subsidised class: prepare the training subsidy and let the
        // policy engine decide it. A failure here leaves the certificate; the claim can be
        // prepared again (the idempotency key keeps it single).
        let class = training::get_class(&st.db, &Default::default(), class_id).await?;
        if class.subsidised {
            let certs = [(done.person_id, cert)];
            if let Err(e) = jineng_store::claims::prepare::for_certificates(&st.db, Some(u.user_id), &certs).await {
                tracing::error!(certificate.id = cert, error = %e, "claim not prepared");
            }
        }
    }
    Ok(done.certificate)
}

/// Record a trainee's assessment (listed assessment bodies). A pass completes the training and
/// issues the certificate; the serial is unique per body.
#[utoipa::path(post, path = "/api/v1/classes/{id}/assessments", request_body = AssessmentBody, params(("id" = i64, Path)),
    responses((status = 201, body = Assessed), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assess_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    Json(b): Json<AssessmentBody>,
) -> Result<(StatusCode, Json<Assessed>), AppError> {
    let certificate_id = assess(&st, &u, id, &b).await?;
    Ok((StatusCode::CREATED, Json(Assessed { certificate_id })))
}

/// The assessment form: one row of the roster (its enrolment), never a typed ID number.
#[derive(Deserialize)]
pub struct AssessmentForm {
    enrolment_id: i64,
    /// Empty: today.
    #[serde(default)]
    assessed_on: String,
    score: Option<String>,
    /// `pass` or `fail`.
    result: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    serial: String,
}

/// `POST /classes/{id}/assessments`: the result of one trainee of the roster.
pub async fn assess_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AssessmentForm>,
) -> Result<Response, PageError> {
    let passed = match f.result.as_str() {
        "pass" => Ok(true),
        "fail" => Ok(false),
        _ => Err(AppError::field("result", "请选择合格或不合格 / choose pass or fail")),
    };
    let score = match f.score.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("score", "成绩应为0–100的整数 / a score is a whole number 0 to 100")),
    };
    let assessed_on = if f.assessed_on.trim().is_empty() { st.clock.today().to_string() } else { f.assessed_on };
    let result = match (passed, score) {
        (Ok(passed), Ok(score)) => {
            let b = AssessmentBody {
                id_number: String::new(),
                assessed_on,
                score,
                passed,
                kind: f.kind,
                serial: f.serial,
                occupation_code: None,
                level: None,
            };
            record(&st, &u, id, Trainee::Enrolment(f.enrolment_id), &b).await.map(|_| {
                if passed {
                    "已记录考核结果：合格，已发证 / result recorded: passed, certificate issued".to_owned()
                } else {
                    "已记录考核结果：不合格 / result recorded: failed".to_owned()
                }
            })
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let anchor = format!("#e{}", f.enrolment_id);
    back_to_class_at(&st, auth, &u, id, &anchor, result).await
}
