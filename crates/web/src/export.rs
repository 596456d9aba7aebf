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

fn attachment(bytes: Vec<u8>, filename: &str) -> Response {
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
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"export.xlsx\"; filename*=UTF-8''{encoded}")),
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
                t.completed_on.map(|d| d.to_string()).unwrap_or_else(|| "未结业".into()),
            ]
        })
        .collect();
    sheet(
        &mut wb,
        "培训记录",
        &["培训班", "计划", "职业(工种)", "等级", "类型", "培训机构", "时间", "补贴性", "结业"],
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
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    Ok(attachment(bytes, &format!("电子培训档案-{}.xlsx", p.name)))
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
    Ok(attachment(wb.save_to_buffer().map_err(xerr)?, "培训班.xlsx"))
}
