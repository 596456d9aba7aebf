//! Finance: fund balances and allocations, payment batches per fund (the balance checked in the
//! same transaction that pays), failed payments re-issued, recoveries recorded; the .xlsx export.

use crate::auth::{Access, Auth, CurrentUser, Route, FINANCE, MONEY_READERS};
use crate::error::AppError;
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, PageError};
use crate::state::AppState;
use crate::xlsx::{xerr, xlsx_download, yuan};
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use axum::Json;
use jineng_domain::Role;
use jineng_store::claims::{self, ClaimScope};
use jineng_store::funds::{self, FundRow};
use jineng_store::payments::{self, BatchRow, PaymentRow};
use jineng_store::users::User;
use minijinja::{context, Value};
use rust_xlsxwriter::{Format, Workbook};
use serde::Deserialize;
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/payments", Roles(MONEY_READERS), payments_page),
        Route::post("/payments", Roles(FINANCE), payments_form),
        Route::get("/payments.xlsx", Roles(MONEY_READERS), payments_xlsx),
        Route::get("/api/v1/payments", Roles(MONEY_READERS), ledger_api),
        Route::post("/api/v1/payments", Roles(FINANCE), op_api),
        Route::get("/api/v1/payment-batches/{id}", Roles(MONEY_READERS), batch_api),
    ]
}

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(ledger_api, op_api, batch_api))]
pub struct Api;

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

/// Payments the ledger lists.
const RECENT_PAYMENTS: i64 = 100;

async fn ledger(st: &AppState) -> Result<Ledger, AppError> {
    Ok(Ledger {
        funds: funds::funds(&st.db).await?,
        batches: payments::batches(&st.db).await?,
        // The newest 100 (every payment: the .xlsx export, or one batch's page).
        payments: payments::payments(&st.db, None, RECENT_PAYMENTS).await?,
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
        fund: String,
        /// Amount, fen.
        amount_fen: i64,
        /// The allocation document.
        note: String,
    },
    /// 生成拨付批次: every claim whose notice ended without open objections, and every failed
    /// payment, for one fund.
    CreateBatch { fund: String },
    /// 审批拨付: pay a draft batch (refused if the fund's balance is short).
    ApproveBatch { batch_id: i64 },
    /// 登记拨付失败: a paid payment came back.
    FailPayment { payment_id: i64, reason: String },
    /// 登记追回: the excess of an advance was paid back.
    RecordRecovery {
        /// The settlement claim.
        claim_id: i64,
        note: String,
    },
}

async fn run(st: &AppState, u: &User, op: &FinanceOp) -> Result<serde_json::Value, AppError> {
    if u.role != Role::Finance {
        return Err(AppError::Forbidden);
    }
    let today = st.clock.today();
    Ok(match op {
        FinanceOp::Allocate { fund, amount_fen, note } => {
            json!({"balance_fen": funds::allocate(&st.db, u.user_id, fund, *amount_fen, note).await?})
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
        .map(|p| json!({"payment_id": p.payment_id, "batch_id": p.batch_id, "claim_id": p.claim_id, "kind_zh": crate::views::kind_zh(&p.kind),
                        "payee_name": p.payee_name, "account_no": p.account_no, "amount_fen": p.amount_fen, "status": p.status, "failure_reason": p.failure_reason,
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
pub async fn payments_page(
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
pub async fn payments_form(
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
    let said = match f.op.as_str() {
        "allocate" => "资金已下达 / allocation recorded",
        "create_batch" => "拨付批次已生成，待审批 / payment batch created, to be approved",
        "approve_batch" => "拨付批次已审批，资金已拨付 / batch approved and paid",
        "fail_payment" => "已登记拨付失败，款项退回资金 / failed payment recorded; the sum is back in the fund",
        _ => "已登记追回 / recovery recorded",
    };
    let result = result.map(|_| Done::new("/payments", said));
    form_result(auth, result, |e, auth| async move { page(&st, &auth, &u, Some(e.message())).await }).await
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

/// `GET /payments.xlsx`: every payment, with its batch and status.
pub async fn payments_xlsx(
    State(st): State<AppState>,
    crate::auth::CurrentUser(u): crate::auth::CurrentUser,
) -> Result<Response, AppError> {
    let list = jineng_store::payments::payments(&st.db, None, 1_000_000).await?;
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("拨付明细").map_err(xerr)?;
    let header = [
        "支付编号",
        "批次",
        "申请编号",
        "类型",
        "支付对象",
        "县区",
        "资金渠道",
        "金额(元)",
        "金额(分)",
        "状态",
        "失败原因",
        "更新时间",
        "收款账号（隐去中间位）",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xerr)?;
        ws.set_column_width(c as u16, 16).map_err(xerr)?;
    }
    for (i, p) in list.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = [
            p.payment_id.to_string(),
            p.batch_id.to_string(),
            p.claim_id.to_string(),
            crate::views::kind_zh(&p.kind).to_owned(),
            p.payee_name.clone().unwrap_or_default(),
            p.county_code.clone(),
            crate::views::fund_zh(&p.fund).to_owned(),
            yuan(p.amount_fen),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(row, c as u16, v).map_err(xerr)?;
        }
        ws.write_number(row, 8, p.amount_fen as f64).map_err(xerr)?;
        let status = match p.status.as_str() {
            "paid" => "已拨付",
            "failed" => "拨付失败",
            _ => "待拨付",
        };
        ws.write_string(row, 9, status).map_err(xerr)?;
        ws.write_string(row, 10, p.failure_reason.clone().unwrap_or_default()).map_err(xerr)?;
        ws.write_string(row, 11, (p.updated_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string())
            .map_err(xerr)?;
        ws.write_string(row, 12, p.account_no.clone().unwrap_or_default()).map_err(xerr)?;
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    crate::xlsx::audit_export(&st.db, u.user_id, "payment", "all", list.len()).await?;
    Ok(xlsx_download(bytes, "拨付明细.xlsx", "export.xlsx"))
}
