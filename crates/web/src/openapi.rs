//! The OpenAPI 3 document of `/api/v1`, assembled from the resources' own documents (each
//! module lists the handlers it owns) and served at `/api/openapi.json`.

use crate::auth::{Access, Route};
use crate::error::{ErrorBody, ErrorDetail};
use crate::{
    accounts, audit, bank_accounts, budget, catalog, claims, classes, facilities, findings, notice, orgs, payments,
    people, plan, policy, public, registers, reports, session,
};
use axum::Json;
use utoipa::OpenApi;

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/openapi.json", Access::Public, openapi_json)]
}

/// The document's title, description and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jineng 职业技能提升行动管理系统 API",
        description = "Plan progress, real-name registry, organisations, classes, claims and payments. \
        Authenticate with `Authorization: Bearer <token>` (from `POST /api/v1/tokens`) or a session cookie plus `X-CSRF-Token` for writes. \
        Every error is `{\"error\": {\"code\", \"message\", \"fields\"}}`."
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
struct Base;

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for part in [
        session::Api::openapi(),
        plan::Api::openapi(),
        people::Api::openapi(),
        orgs::Api::openapi(),
        classes::Api::openapi(),
        claims::Api::openapi(),
        notice::Api::openapi(),
        payments::Api::openapi(),
        budget::Api::openapi(),
        public::Api::openapi(),
        catalog::Api::openapi(),
        policy::Api::openapi(),
        registers::Api::openapi(),
        facilities::Api::openapi(),
        bank_accounts::Api::openapi(),
        findings::Api::openapi(),
        reports::Api::openapi(),
        accounts::Api::openapi(),
        audit::Api::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
