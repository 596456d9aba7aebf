//! Building `.xlsx` downloads: a sheet of rows under a bold header, sent with a UTF-8 file name.

use crate::error::AppError;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An .xlsx download named `filename` (UTF-8, percent-encoded), with `fallback` for old clients.
pub fn xlsx_download(bytes: Vec<u8>, filename: &str, fallback: &str) -> Response {
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

/// Records in the audit log that `user_id` exported `rows` rows of personal data (`entity`:
/// what, `entity_id`: which, `all` for a list), before the file is sent.
pub async fn audit_export(
    db: &jineng_store::Db,
    user_id: i64,
    entity: &str,
    entity_id: &str,
    rows: usize,
) -> Result<(), AppError> {
    jineng_store::audit::log(
        db,
        Some(user_id),
        "export",
        entity,
        entity_id,
        &serde_json::json!({"rows": rows, "format": "xlsx"}),
    )
    .await?;
    Ok(())
}

/// A workbook that could not be written is an internal error.
pub fn xerr(e: XlsxError) -> AppError {
    AppError::Internal(e.to_string())
}

/// Writes a sheet of rows under a bold header.
pub fn sheet(wb: &mut Workbook, name: &str, header: &[&str], rows: &[Vec<String>]) -> Result<(), XlsxError> {
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

/// Fen as yuan with two decimals, for spreadsheets.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}
