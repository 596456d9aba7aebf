//! Finance: fund balances and allocations, payment batches per fund (the balance checked in the
//! same transaction that pays), failed payments re-issued, recoveries recorded.

use crate::auth::{Auth, CsrfForm, CurrentUser};
use crate::error::AppError;
use crate::pages::{render_page, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use jineng_store::claims::{self, ClaimScope};
use jineng_store::payments::{self, BatchRow, FundRow, PaymentRow};
use jineng_store::users::{Role, User};
use minijinja::{context, Value};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// Funds, batches, recent payments and recoveries due, as the finance page and API show them.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Ledger {
    /// Funds with balances.
    pub funds: Vec<FundRow>,
    /// Batches, newest first.
    pub batches: Vec<BatchRow>,
    /// Payments, newest first.
    pub payments: Vec<PaymentRow>,
}

async fn ledger(st: &AppState) -> Result<Ledger, AppError> {
    Ok(Ledger {
        funds: payments::funds(&st.db).await?,
        batches: payments::batches(&st.db).await?,
        payments: payments::payments(&st.db, None, 500).await?,
    })
}

/// Funds, batches and payments.
#[utoipa::path(get, path = "/api/v1/payments", responses((status = 200, body = Ledger)))]
pub async fn ledger_api(State(st): State<AppState>) -> Result<Json<Ledger>, AppError> {
    Ok(Json(ledger(&st).await?))
}

/// A finance operation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FinanceOp {
    /// 资金下达: money allocated to a fund.
    Allocate {
        /// Fund.
        fund: String,
        /// Amount, fen.
        amount_fen: i64,
        /// The allocation document.
        note: String,
    },
    /// 生成拨付批次: every claim whose notice ended without open objections, and every failed
    /// payment, for one fund.
    CreateBatch {
        /// Fund.
        fund: String,
    },
    /// 审批拨付: pay a draft batch (refused if the fund's balance is short).
    ApproveBatch {
        /// Batch.
        batch_id: i64,
    },
    /// 登记拨付失败: a paid payment came back.
    FailPayment {
        /// Payment.
        payment_id: i64,
        /// Why.
        reason: String,
    },
    /// 登记追回: the excess of an advance was paid back.
    RecordRecovery {
        /// The settlement claim.
        claim_id: i64,
        /// Receipt.
        note: String,
    },
}

async fn run(st: &AppState, u: &User, op: &FinanceOp) -> Result<serde_json::Value, AppError> {
    if u.role != Role::Finance {
        return Err(AppError::Forbidden);
    }
    let today = crate::policy::today();
    Ok(match op {
        FinanceOp::Allocate { fund, amount_fen, note } => {
            json!({"balance_fen": payments::allocate(&st.db, u.user_id, fund, *amount_fen, note).await?})
        }
        FinanceOp::CreateBatch { fund } => match payments::create_batch(&st.db, u.user_id, fund, today).await? {
            Some(b) => json!({"batch": b}),
            None => {
                return Err(AppError::field(
                    "fund",
                    "没有可拨付的申请（公示期满且无未处理异议）/ nothing is due: no claim has ended its notice without open objections",
                ))
            }
        },
        FinanceOp::ApproveBatch { batch_id } => {
            json!({"balance_fen": payments::approve_batch(&st.db, u.user_id, *batch_id).await?})
        }
        FinanceOp::FailPayment { payment_id, reason } => {
            payments::fail_payment(&st.db, u.user_id, *payment_id, reason).await?;
            json!({})
        }
        FinanceOp::RecordRecovery { claim_id, note } => {
            payments::record_recovery(&st.db, u.user_id, *claim_id, note).await?;
            json!({})
        }
    })
}

/// Finance operations: allocate, create a batch, approve a batch, record a failed payment or a
/// recovery. Each lands whole or not at all.
#[utoipa::path(post, path = "/api/v1/payments", request_body = FinanceOp, responses((status = 200)))]
pub async fn op_api(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(op): Json<FinanceOp>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(run(&st, &u, &op).await?))
}

async fn page(st: &AppState, auth: &Auth, u: &User, error: Option<String>) -> Result<Html<String>, PageError> {
    let l = ledger(st).await.map_err(|e| PageError::new(e, auth.clone()))?;
    let recoveries = claims::list(&st.db, &ClaimScope::default(), Some("recovery_due"), 500)
        .await
        .map_err(|e| PageError::new(e.into(), auth.clone()))?;
    let recoveries: Vec<_> = recoveries
        .iter()
        .map(|r| json!({"claim_id": r.claim_id, "payee_name": r.payee_name, "amount_fen": r.amount_fen, "filed_on": r.filed_on}))
        .collect();
    let payments: Vec<_> = l
        .payments
        .iter()
        .map(|p| json!({"payment_id": p.payment_id, "batch_id": p.batch_id, "claim_id": p.claim_id, "kind_zh": crate::claims::kind_zh(&p.kind),
                        "payee_name": p.payee_name, "amount_fen": p.amount_fen, "status": p.status, "failure_reason": p.failure_reason,
                        "fund": p.fund}))
        .collect();
    render_page(
        st,
        auth,
        "payments.html",
        context! { funds => Value::from_serialize(&l.funds), batches => Value::from_serialize(&l.batches),
        payments => Value::from_serialize(&payments), recoveries => Value::from_serialize(&recoveries),
        finance => u.role == Role::Finance, error => error },
    )
}

/// `GET /payments`
pub async fn page_get(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    page(&st, &auth, &u, None).await
}

/// The finance form (all operations; `op` says which).
#[derive(Debug, Deserialize)]
pub struct OpForm {
    op: String,
    #[serde(default)]
    fund: String,
    #[serde(default)]
    amount_yuan: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    batch_id: Option<i64>,
    #[serde(default)]
    payment_id: Option<i64>,
    #[serde(default)]
    claim_id: Option<i64>,
    #[serde(default)]
    reason: String,
}

fn parse_op(f: &OpForm) -> Result<FinanceOp, AppError> {
    let id = |v: Option<i64>, field: &str| v.ok_or_else(|| AppError::field(field, "必填 / required"));
    Ok(match f.op.as_str() {
        "allocate" => FinanceOp::Allocate {
            fund: f.fund.clone(),
            amount_fen: jineng_domain::Money::parse_yuan(&f.amount_yuan)
                .map_err(|e| AppError::field("amount_yuan", e))?
                .fen(),
            note: f.note.clone(),
        },
        "create_batch" => FinanceOp::CreateBatch { fund: f.fund.clone() },
        "approve_batch" => FinanceOp::ApproveBatch { batch_id: id(f.batch_id, "batch_id")? },
        "fail_payment" => {
            FinanceOp::FailPayment { payment_id: id(f.payment_id, "payment_id")?, reason: f.reason.clone() }
        }
        "record_recovery" => FinanceOp::RecordRecovery { claim_id: id(f.claim_id, "claim_id")?, note: f.note.clone() },
        _ => return Err(AppError::field("op", "未知操作 / unknown operation")),
    })
}

/// `POST /payments`
pub async fn page_post(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<OpForm>,
) -> Result<Response, PageError> {
    let result = async {
        let op = parse_op(&f)?;
        run(&st, &u, &op).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to("/payments").into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            page(&st, &auth, &u, Some(e.message())).await.map(|h| (status, h).into_response())
        }
        Err(e) => Err(PageError::new(e, auth)),
    }
}

/// `GET /api/v1/payment-batches/{id}`: one batch's payments.
#[utoipa::path(get, path = "/api/v1/payment-batches/{id}", params(("id" = i64, Path)), responses((status = 200, body = [PaymentRow])))]
pub async fn batch_api(State(st): State<AppState>, Path(id): Path<i64>) -> Result<Json<Vec<PaymentRow>>, AppError> {
    let rows = payments::payments(&st.db, Some(id), 100_000).await?;
    if rows.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(Json(rows))
}
