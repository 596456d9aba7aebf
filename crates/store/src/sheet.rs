//! Reading uploaded sheets, bounded: `.xlsx` read as a stream of cells (never as a grid of the
//! sheet's declared range) and CSV (UTF-8, or GBK as Excel saves it in China), each row's first
//! `N` cells with the row number a spreadsheet shows. Shared by the class roster and the imports
//! of the authorities' registers.

use chrono::NaiveDate;
use jineng_domain::Invalid;

/// Most data rows a sheet may have.
pub const MAX_ROWS: usize = 200_000;
/// Most bytes the workbook's parts may unpack to (a small file must not unpack into gigabytes).
pub const MAX_UNPACKED: u64 = 256 * 1024 * 1024;
/// Most characters of one cell that is read.
pub const MAX_CELL: usize = 200;
/// Most row errors kept and reported; the rest are counted.
pub const MAX_ERRORS: usize = 1000;

/// A cell read: its text, or why it cannot be used.
pub type Cell = std::result::Result<String, &'static str>;

/// A row of the sheet: its Excel number and its first `N` cells.
pub type SheetRow<const N: usize> = (usize, [Option<Cell>; N]);

pub fn cell_text(c: &calamine::DataRef<'_>) -> Option<Cell> {
    use calamine::DataRef::*;
    let text = |s: &str| -> Option<Cell> {
        let s = s.trim();
        if s.is_empty() {
            None
        } else if s.chars().count() > MAX_CELL {
            Some(Err("单元格内容过长 / the cell is too long"))
        } else {
            Some(Ok(s.to_owned()))
        }
    };
    match c {
        Empty => None,
        String(s) => text(s),
        SharedString(s) => text(s),
        Int(i) => Some(Ok(i.to_string())),
        // An 18-digit number has lost its last digits in Excel: the column must be text.
        Float(_) => {
            Some(Err("身份证号须为文本格式（数字会丢失末位）/ the ID column must be text: numbers lose digits"))
        }
        DateTime(d) => Some(
            NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|base| base.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
                .map(|d| d.to_string())
                .ok_or("日期无效 / bad date"),
        ),
        DateTimeIso(s) => text(s.get(..10).unwrap_or(s)),
        Bool(b) => Some(Ok(b.to_string())),
        DurationIso(s) => text(s),
        Error(_) => Some(Err("单元格有错误值 / the cell holds an error")),
    }
}

/// The first `N` cells of each non-empty row of the first sheet, read as a stream of cells
/// (never as a grid of the sheet's declared range), with the Excel row number. Bounded: what
/// the parts unpack to, the number of rows, the length of a cell.
pub fn read_rows<const N: usize>(bytes: &[u8]) -> std::result::Result<Vec<SheetRow<N>>, Invalid> {
    use calamine::{Reader, Xlsx};
    let not_xlsx = || Invalid::new("roster.file", "不是有效的 .xlsx 文件", "not a valid .xlsx file");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        unpacked = unpacked.saturating_add(zip.by_index_raw(i).map_err(|_| not_xlsx())?.size());
    }
    if unpacked > MAX_UNPACKED {
        return Err(Invalid::new(
            "roster.too_large",
            format!("文件解压后超过 {} MB", MAX_UNPACKED >> 20),
            format!("the file unpacks to more than {} MB", MAX_UNPACKED >> 20),
        ));
    }
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Invalid::new("roster.sheet", "文件中没有工作表", "the file has no sheet"))?;
    let unreadable = || Invalid::new("roster.sheet", "无法读取第一个工作表", "the first sheet cannot be read");
    let mut cells = wb.worksheet_cells_reader(&sheet).map_err(|_| unreadable())?;
    let mut rows: Vec<SheetRow<N>> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|_| unreadable())? {
        let (r, c) = cell.get_position();
        if c as usize >= N {
            continue;
        }
        let Some(value) = cell_text(cell.get_value()) else { continue };
        let row = r as usize + 1;
        if rows.last().is_none_or(|(last, _)| *last != row) {
            if rows.len() > MAX_ROWS || row > MAX_ROWS + 1 {
                return Err(Invalid::new(
                    "roster.too_many_rows",
                    format!("花名册最多 {MAX_ROWS} 行"),
                    format!("a roster has at most {MAX_ROWS} rows"),
                ));
            }
            rows.push((row, std::array::from_fn(|_| None)));
        }
        if let Some((_, cols)) = rows.last_mut() {
            cols[c as usize] = Some(value);
        }
    }
    Ok(rows)
}

/// Whether the bytes are an `.xlsx` (a zip) rather than CSV text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The first `N` fields of each non-empty line of a CSV file, with its line number. UTF-8 (with
/// or without a byte-order mark) or GBK; quoted fields may hold commas, quotes (doubled) and
/// line breaks. Bounded like [`read_rows`].
pub fn read_csv<const N: usize>(bytes: &[u8]) -> std::result::Result<Vec<SheetRow<N>>, Invalid> {
    let text: std::borrow::Cow<'_, str> =
        match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
            Ok(s) => s.into(),
            Err(_) => {
                let (s, _, bad) = encoding_rs::GBK.decode(bytes);
                if bad {
                    return Err(Invalid::new(
                        "sheet.encoding",
                        "CSV 文件编码无法识别（应为 UTF-8 或 GBK）",
                        "the CSV file is neither UTF-8 nor GBK",
                    ));
                }
                s
            }
        };
    let mut rows: Vec<SheetRow<N>> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1usize;
    let mut start = 1usize;
    let mut chars = text.chars().peekable();
    let end_row =
        |fields: &mut Vec<String>, start: usize, rows: &mut Vec<SheetRow<N>>| -> std::result::Result<(), Invalid> {
            if fields.iter().any(|f| !f.trim().is_empty()) {
                if rows.len() > MAX_ROWS {
                    return Err(Invalid::new(
                        "sheet.too_many_rows",
                        format!("最多 {MAX_ROWS} 行"),
                        format!("at most {MAX_ROWS} rows"),
                    ));
                }
                let mut cells: [Option<Cell>; N] = std::array::from_fn(|_| None);
                for (i, f) in fields.iter().take(N).enumerate() {
                    let t = f.trim();
                    cells[i] = if t.is_empty() {
                        None
                    } else if t.chars().count() > MAX_CELL {
                        Some(Err("单元格内容过长 / the cell is too long"))
                    } else {
                        Some(Ok(t.to_owned()))
                    };
                }
                rows.push((start, cells));
            }
            fields.clear();
            Ok(())
        };
    while let Some(c) = chars.next() {
        if field.len() > MAX_CELL * 4 {
            return Err(Invalid::new(
                "sheet.cell",
                format!("第{line}行有过长的字段"),
                format!("line {line} has a field too long"),
            ));
        }
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                end_row(&mut fields, start, &mut rows)?;
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    fields.push(field);
    end_row(&mut fields, start, &mut rows)?;
    Ok(rows)
}

/// The rows of an uploaded `.xlsx` or CSV file, never panicking: a file malformed enough to make
/// the `.xlsx` reader panic is refused like any other invalid file.
pub fn read_any<const N: usize>(bytes: &[u8]) -> std::result::Result<Vec<SheetRow<N>>, Invalid> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if is_xlsx(bytes) {
            read_rows::<N>(bytes)
        } else {
            read_csv::<N>(bytes)
        }
    }))
    .unwrap_or_else(|_| {
        Err(Invalid::new("sheet.file", "不是有效的 .xlsx 或 CSV 文件", "not a valid .xlsx or CSV file"))
    })
}

/// The data rows of an uploaded `.xlsx` or CSV file made from a template: the first row must be
/// the template's header, whose first column starts with `headers[0]`'s Chinese name; an empty
/// file or another first row is refused, naming the template's first columns.
pub fn read_template<const N: usize>(
    bytes: &[u8],
    headers: &[&str],
) -> std::result::Result<std::vec::IntoIter<SheetRow<N>>, Invalid> {
    let mut rows = read_any::<N>(bytes)?.into_iter();
    let (_, header) = rows.next().ok_or_else(|| Invalid::new("register.empty", "文件为空", "the file is empty"))?;
    let name = |h: &str| h.split(' ').next().unwrap_or(h).to_owned();
    let first = headers.first().map(|h| name(h)).unwrap_or_default();
    if !header[0].clone().and_then(|r| r.ok()).unwrap_or_default().starts_with(&first) {
        let names: Vec<String> = headers.iter().take(2).map(|h| name(h)).collect();
        return Err(Invalid::new(
            "register.header",
            format!("第1行应为模板表头（{}……），请使用下载的模板", names.join("、")),
            "row 1 must be the template's header: use the template",
        ));
    }
    Ok(rows)
}
