//! `.xlsx` exports: the worker's electronic training record (电子档案) and list pages.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::views;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jineng_domain::id_number::mask;
use jineng_store::{assessment, people, training};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An .xlsx download named `filename` (UTF-8, percent-encoded), with `fallback` for old clients.
pub(crate) fn xlsx_download(bytes: Vec<u8>, filename: &str, fallback: &str) -> Response {
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")),
        ],
        bytes,
    )
        .into_response()
}

fn xerr(e: XlsxError) -> AppError {
    AppError::Internal(e.to_string())
}

/// Writes a sheet of rows under a bold header.
fn sheet(wb: &mut Workbook, name: &str, header: &[&str], rows: &[Vec<String>]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 18)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    Ok(())
}

/// `GET /people/{id}/record.xlsx`: one person's trainings, certificates and groups (ID masked).
pub async fn record(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let vis = views::people_visibility(&u)?;
    let p = people::get(&st.db, &vis, id).await?;
    let trainings = people::trainings(&st.db, id).await?;
    let certificates = assessment::certificates_of(&st.db, id).await?;
    let groups = people::groups(&st.db, id).await?;
    let mut wb = Workbook::new();
    let info = vec![
        vec!["姓名 Name".into(), p.name.clone()],
        vec!["身份证号 ID number".into(), mask(&p.id_number)],
        vec!["性别 Sex".into(), if p.sex == "male" { "男".into() } else { "女".into() }],
        vec!["出生日期 Born".into(), p.birth_date.to_string()],
        vec!["县区 County".into(), p.county_name.clone()],
    ];
    sheet(&mut wb, "基本信息", &["项目", "内容"], &info).map_err(xerr)?;
    let rows: Vec<Vec<String>> = trainings
        .iter()
        .map(|t| {
            vec![
                t.class_name.clone(),
                t.program_code.clone(),
                format!("{} {}", t.occupation_code, t.occupation_name),
                t.level.map(|l| l.to_string()).unwrap_or_default(),
                jineng_domain::TrainingKind::parse(&t.kind)
                    .map(|k| k.zh().to_owned())
                    .unwrap_or_else(|_| t.kind.clone()),
                t.provider_name.clone(),
                format!("{} — {}", t.start_date, t.end_date),
                if t.subsidised { "是".into() } else { "否".into() },
                format!("{} 天", t.days_attended),
                t.completed_on.map(|d| d.to_string()).unwrap_or_else(|| "未结业".into()),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        "培训记录",
        &["培训班", "计划", "职业(工种)", "等级", "类型", "培训机构", "时间", "补贴性", "出勤", "结业"],
        &rows,
    )
    .map_err(xerr)?;
    let rows: Vec<Vec<String>> = certificates
        .iter()
        .map(|c| {
            vec![
                c.kind.clone(),
                format!("{} {}", c.occupation_code, c.occupation_name),
                c.level.map(|l| l.to_string()).unwrap_or_default(),
                c.serial.clone(),
                c.issued_on.to_string(),
                c.body_name.clone(),
            ]
        })
        .collect();
    sheet(&mut wb, "证书", &["证书类型", "职业(工种)", "等级", "编号", "发证日期", "评价机构"], &rows).map_err(xerr)?;
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            vec![
                jineng_domain::PriorityGroup::parse(&g.group_code)
                    .map(|x| x.zh().to_owned())
                    .unwrap_or_else(|_| g.group_code.clone()),
                g.from_date.to_string(),
                g.to_date.map(|d| d.to_string()).unwrap_or_else(|| "至今".into()),
            ]
        })
        .collect();
    sheet(&mut wb, "人员类别", &["类别", "起", "止"], &rows).map_err(xerr)?;
    let subsidies = crate::claims::subsidies_of(&st.db, id).await?;
    let rows: Vec<Vec<String>> = subsidies
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            vec![
                c["claim_id"].to_string(),
                s("kind_zh"),
                s("filed_on"),
                s("outcome"),
                yuan(c["amount_fen"].as_i64().unwrap_or(0)),
                s("status_zh"),
            ]
        })
        .collect();
    sheet(&mut wb, "补贴", &["编号", "补贴类型", "日期", "审核结果", "金额(元)", "状态"], &rows).map_err(xerr)?;
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    Ok(xlsx_download(bytes, &format!("电子培训档案-{}.xlsx", p.name), "export.xlsx"))
}

/// `GET /classes.xlsx`: the classes the caller may see.
pub async fn classes(State(st): State<AppState>, CurrentUser(u): CurrentUser) -> Result<Response, AppError> {
    let scope = views::class_scope(&st.db, &u).await?;
    let list = training::list_classes(&st.db, &scope, 100_000, 0).await?;
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.class_id.to_string(),
                c.name.clone(),
                c.program_code.clone(),
                format!("{} {}", c.occupation_code, c.occupation_name),
                c.level.map(|l| l.to_string()).unwrap_or_default(),
                c.county_name.clone(),
                c.provider_name.clone(),
                c.start_date.to_string(),
                c.end_date.to_string(),
                if c.subsidised { "是".into() } else { "否".into() },
                jineng_domain::ClassStatus::parse(&c.status)
                    .map(|s| s.zh().to_owned())
                    .unwrap_or_else(|| c.status.clone()),
                c.enrolled.to_string(),
                c.completed.to_string(),
            ]
        })
        .collect();
    let mut wb = Workbook::new();
    sheet(
        &mut wb,
        "培训班",
        &[
            "编号",
            "班级",
            "计划",
            "职业(工种)",
            "等级",
            "县区",
            "培训机构",
            "开始",
            "结束",
            "补贴性",
            "状态",
            "报名",
            "结业",
        ],
        &rows,
    )
    .map_err(xerr)?;
    Ok(xlsx_download(wb.save_to_buffer().map_err(xerr)?, "培训班.xlsx", "export.xlsx"))
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// `GET /claims.xlsx`: the claims the caller may see (the list page's status and kind filters apply).
pub async fn claims(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    axum::extract::Query(q): axum::extract::Query<crate::claims::ClaimQuery>,
) -> Result<Response, AppError> {
    let scope = crate::claims::scope_of(&u)?;
    // Every page of the list's filter.
    let mut filter = crate::claims::claim_filter(&q, 1_000_000)?;
    filter.offset = 0;
    let (list, _) = jineng_store::claims::page(&st.db, &scope, &filter).await?;
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("补贴申请").map_err(xerr)?;
    let header = [
        "编号",
        "类型",
        "申请人/支付对象",
        "县区",
        "申请日期",
        "审核结果",
        "金额(元)",
        "金额(分)",
        "资金渠道",
        "状态",
        "公示起",
        "公示止",
        "依据条款",
        "原因",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(xerr)?;
        ws.set_column_width(c as u16, 16).map_err(xerr)?;
    }
    for (i, r) in list.iter().enumerate() {
        let row = i as u32 + 1;
        let d: serde_json::Value = serde_json::from_str(&r.decision).unwrap_or_default();
        let clauses = d["clauses"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let reasons = d["reasons"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["zh"].as_str()).collect::<Vec<_>>().join("；"))
            .unwrap_or_default();
        let cells = [
            r.claim_id.to_string(),
            crate::claims::kind_zh(&r.kind).to_owned(),
            r.payee_name.clone().unwrap_or_default(),
            r.county_code.clone(),
            r.filed_on.to_string(),
            match r.outcome.as_str() {
                "approved" => "核准",
                "reduced" => "核减",
                "recover" => "追回",
                _ => "不予补贴",
            }
            .to_owned(),
            yuan(r.amount_fen),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(row, c as u16, v).map_err(xerr)?;
        }
        ws.write_number(row, 7, r.amount_fen as f64).map_err(xerr)?;
        let rest = [
            if r.fund == "unemployment_insurance_fund" { "失业保险基金" } else { "就业补助资金" }.to_owned(),
            jineng_domain::ClaimStatus::parse(&r.status).map(|s| s.zh().to_owned()).unwrap_or_default(),
            r.notice_from.map(|d| d.to_string()).unwrap_or_default(),
            r.notice_until.map(|d| d.to_string()).unwrap_or_default(),
            clauses,
            reasons,
        ];
        for (c, v) in rest.iter().enumerate() {
            ws.write_string(row, 8 + c as u16, v).map_err(xerr)?;
        }
    }
    Ok(xlsx_download(wb.save_to_buffer().map_err(xerr)?, "补贴申请.xlsx", "export.xlsx"))
}

/// `GET /payments.xlsx`: every payment, with its batch and status.
pub async fn payments(State(st): State<AppState>) -> Result<Response, AppError> {
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
            crate::claims::kind_zh(&p.kind).to_owned(),
            p.payee_name.clone().unwrap_or_default(),
            p.county_code.clone(),
            if p.fund == "unemployment_insurance_fund" { "失业保险基金" } else { "就业补助资金" }.to_owned(),
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
    }
    Ok(xlsx_download(wb.save_to_buffer().map_err(xerr)?, "拨付明细.xlsx", "export.xlsx"))
}
