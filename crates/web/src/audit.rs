//! The audit log page: every change, newest first, filterable by entity and days, in words and
//! China time, for auditors and the city admin.

use crate::auth::{Access, Auth, Route, AUDIT_READERS};
use crate::render::{render_page, OrPage, PageResult};
use crate::state::AppState;
use axum::extract::{Query, State};
use jineng_store::audit::AuditFilter;
use minijinja::{context, Value};
use serde::Deserialize;

/// The API of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(verify_api))]
pub struct Api;

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/audit", Access::Roles(AUDIT_READERS), audit_page),
        Route::post("/audit/verify", Access::Roles(AUDIT_READERS), verify_form),
        Route::post("/api/v1/audit/verify", Access::Roles(AUDIT_READERS), verify_api),
    ]
}

/// Filter of the audit page: entity, days (China time, inclusive), page.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    entity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

/// Entries per page.
const PER_PAGE: i64 = 100;

/// What each kind of entity is called.
const ENTITIES: &[(&str, &str)] = &[
    ("person", "劳动者"),
    ("employer", "用人单位"),
    ("provider", "培训机构"),
    ("assessment_body", "评价机构"),
    ("training_class", "培训班"),
    ("enrolment", "报名"),
    ("completion", "结业"),
    ("attendance", "考勤"),
    ("assessment", "考核"),
    ("claim", "补贴申请"),
    ("payment_batch", "拨付批次"),
    ("fund", "资金"),
    ("employment", "就业记录"),
    ("program", "专项计划"),
    ("parameter", "政策参数"),
    ("occupation", "职业"),
    ("subsidy_project", "补贴项目"),
    ("app_user", "用户"),
    ("api_token", "接口令牌"),
    ("plan", "计划"),
    ("report_period", "报告期"),
    ("target_proposal", "目标建议"),
    ("earmark_proposal", "预算额度建议"),
    ("labour_statistic", "技能人才统计"),
];

/// What each action is called (codes not listed are shown as they are).
fn action_zh(code: &str) -> &str {
    match code {
        "create" => "新增",
        "update" => "修改",
        "sign_in" => "登录",
        "sign_in_refused" => "登录失败",
        "decide" => "政策审核",
        "decide_batch" => "批量政策审核",
        "approve" => "审核通过",
        "reject" => "不予补贴",
        "publish" => "公示",
        "object" => "提出异议",
        "uphold_objection" => "异议成立",
        "dismiss_objection" => "异议不成立",
        "allocate" => "资金下达",
        "include" => "纳入拨付批次",
        "pay" => "拨付",
        "fail" => "拨付失败",
        "reissue" => "重新拨付",
        "recover" => "追回",
        "revoke" => "注销",
        "return" => "退回",
        "resubmit" => "重新提交",
        "close" => "结班",
        "check_in" => "签到",
        "set_target" => "调整目标",
        "schedule" => "设定参数",
        "set_yearly_task" => "设定年度任务",
        "propose_target" => "提出目标建议",
        "adopt_proposal" => "采纳目标建议",
        "return_proposal" => "退回目标建议",
        "propose_earmark" => "提出预算额度建议",
        "adopt_earmark" => "采纳预算额度建议",
        "return_earmark" => "退回预算额度建议",
        "submit_report" => "报送报告",
        "close_report" => "关账冻结报告",
        "record_statistic" => "录入统计数据",
        "import_statistics" => "导入统计数据",
        "sign_in_throttled" => "登录受限",
        "setup_refused" => "一次性代码错误",
        "suspend" => "停用账号",
        "unsuspend" => "恢复账号",
        "reset_password" => "重置密码",
        "change_role" => "修改角色",
        "change_password" => "修改密码",
        "set_password" => "设置密码",
        "export" => "导出",
        "run_checks" => "运行疑点检查",
        "confirmed" => "确认疑点属实",
        "dismissed" => "排除疑点",
        "open_recoveries" => "启动追回",
        "suspend_provider" => "暂停培训机构目录资格",
        "reclaim" => "因疑点确认追回",
        "verify_chain" => "校验审计链",
        _ => code,
    }
}

/// A change's detail in words: `key: value` pairs, nested objects flattened.
fn detail_text(json: &str) -> String {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&p, x, out);
                }
            }
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => out.push(format!("{prefix}: {s}")),
            other => out.push(format!("{prefix}: {other}")),
        }
    }
    let mut out = Vec::new();
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(v) => walk("", &v, &mut out),
        Err(_) => out.push(json.to_owned()),
    }
    out.join("；")
}

/// A China-time day as the UTC moment it starts.
fn day_start(s: Option<&str>, days_after: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = s.map(str::trim).filter(|s| !s.is_empty())?.parse::<chrono::NaiveDate>().ok()?;
    let d = d.checked_add_days(chrono::Days::new(days_after))?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc() - chrono::Duration::hours(8))
}

/// `GET /audit`: the changes, newest first, 100 a page, filterable by entity and days; times in
/// China time, users by name, actions and details in words. For auditors and the city admin.
pub async fn audit_page(State(st): State<AppState>, auth: Auth, Query(q): Query<AuditQuery>) -> PageResult {
    audit_view(&st, auth, q, None).await
}

/// Walks the chain (every entry: seconds for a million) and records who did and what was found.
async fn verify_chain(st: &AppState, user_id: i64) -> Result<jineng_store::audit::Verdict, crate::error::AppError> {
    let v = jineng_store::audit::verify(&st.db).await?;
    jineng_store::audit::log(
        &st.db,
        Some(user_id),
        "verify_chain",
        "audit_log",
        "all",
        &serde_json::json!({"rows": v.rows, "head_seq": v.head_seq, "head_hash": v.head_hash, "breaks": v.breaks}),
    )
    .await?;
    Ok(v)
}

/// Walks the audit log's hash chain and reports the first entry altered, removed or inserted
/// (what `jineng audit verify` does), with the head to keep elsewhere; the check is audited.
#[utoipa::path(post, path = "/api/v1/audit/verify", responses((status = 200, description = "the verdict: rows, head_seq, head_hash, first (the first break), breaks")))]
pub async fn verify_api(
    State(st): State<AppState>,
    crate::auth::CurrentUser(u): crate::auth::CurrentUser,
) -> Result<axum::Json<jineng_store::audit::Verdict>, crate::error::AppError> {
    Ok(axum::Json(verify_chain(&st, u.user_id).await?))
}

/// `POST /audit/verify`: the button on the audit page.
pub async fn verify_form(
    State(st): State<AppState>,
    auth: Auth,
    crate::auth::CurrentUser(u): crate::auth::CurrentUser,
    crate::guard::CsrfForm(_f): crate::guard::CsrfForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let v = verify_chain(&st, u.user_id).await.page(&auth)?;
    audit_view(&st, auth, AuditQuery::default(), Some(v)).await
}

async fn audit_view(
    st: &AppState,
    auth: Auth,
    q: AuditQuery,
    verdict: Option<jineng_store::audit::Verdict>,
) -> PageResult {
    let st = st.clone();
    let head = jineng_store::audit::head(&st.db).await.page(&auth)?;
    let entity = q.entity.filter(|e| !e.is_empty());
    let (page, offset) = crate::common::page_offset(q.page, PER_PAGE);
    let filter = AuditFilter {
        entity: entity.clone(),
        from: day_start(q.from.as_deref(), 0),
        until: day_start(q.to.as_deref(), 1),
        limit: PER_PAGE + 1,
        offset,
    };
    let mut rows = jineng_store::audit::recent(&st.db, &filter).await.page(&auth)?;
    let more = rows.len() as i64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let e = &r.entry;
            let entity_zh = ENTITIES.iter().find(|(k, _)| *k == e.entity).map_or(e.entity.as_str(), |(_, zh)| zh);
            serde_json::json!({
                "at": (e.at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string(),
                "address": e.address, "seq": e.seq, "user": r.user_name.clone().unwrap_or_else(|| if e.user_id.is_some() { format!("用户 #{}", e.user_id.unwrap_or_default()) } else { "系统 / 公众".into() }),
                "action": action_zh(&e.action), "action_code": e.action,
                "entity": entity_zh, "entity_code": e.entity, "entity_id": e.entity_id,
                "detail": detail_text(&e.detail),
            })
        })
        .collect();
    render_page(
        &st,
        &auth,
        "audit.html",
        context! { rows => Value::from_serialize(&rows), entities => Value::from_serialize(ENTITIES), entity,
        from => q.from.unwrap_or_default(), to => q.to.unwrap_or_default(), page, more,
        head_seq => head.0, head_hash => head.1, verdict => Value::from_serialize(&verdict) },
    )
}
