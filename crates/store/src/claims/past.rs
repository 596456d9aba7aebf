//! Subsidies granted before the system (历史补贴发放记录): what a bureau paid from its
//! spreadsheets or the provincial platform before it used jineng, recorded by the city office
//! so that every cap counts them (the yearly certificate cap, the six on-the-job months, one
//! advance and one settlement per project, one equipment grant per facility). Each is stored as
//! a paid claim marked imported; it moves no money and is not decided again.

use super::{file, NewClaim};
use crate::audit::Actor;
use crate::{with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{ClaimKind, IdNumber, Invalid};
use serde::{Deserialize, Serialize};

/// One subsidy granted before; which fields are needed depends on `kind`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PastGrant {
    /// The claim kind's code (`training_subsidy`, `on_the_job`, `project_training`, …).
    pub kind: String,
    /// The person's ID number (certificate subsidies, living allowance, on-the-job, pre-job,
    /// apprenticeship).
    #[serde(default)]
    pub id_number: Option<String>,
    /// The certificate's serial (certificate subsidies): one of the person's certificates.
    #[serde(default)]
    pub certificate_serial: Option<String>,
    /// The employer's credit code (employer subsidies, an enterprise's own project).
    #[serde(default)]
    pub employer_code: Option<String>,
    /// The provider's credit code (a provider's project).
    #[serde(default)]
    pub provider_code: Option<String>,
    /// The project number (project training).
    #[serde(default)]
    pub project_code: Option<String>,
    /// `advance` or `settlement` (project training).
    #[serde(default)]
    pub stage: Option<String>,
    /// The facility (equipment grant): one the employer registered.
    #[serde(default)]
    pub facility_id: Option<i64>,
    /// Months paid (on-the-job).
    #[serde(default)]
    pub months: Option<i64>,
    /// The date it was granted for.
    pub granted_on: NaiveDate,
    /// Amount paid, fen.
    pub amount_fen: i64,
}

fn refuse(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::invalid(field, Invalid::new(code, zh, en))
}

/// The project reference of a project number for its organiser: `p{provider id}` or
/// `e{employer id}` (as [`super::project_of`] names the project of a class).
pub(crate) fn project_ref(organiser: char, id: i64, code: &str) -> String {
    format!("project-{organiser}{id}-{code}")
}

/// Records a subsidy granted before the system; `key` makes a repeated import a no-op.
/// Returns the claim's id.
pub async fn record(db: &Db, actor: Actor, key: &str, g: &PastGrant) -> Result<i64> {
    let c = build(db, actor, key, g).await?;
    let mut tx = db.begin().await?;
    let id = store(&mut tx, actor, &c).await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores a checked grant as a paid claim marked imported (a key stored before: left as it is).
async fn store(tx: &mut crate::Tx, actor: Actor, c: &NewClaim) -> Result<i64> {
    let (id, new) = file(tx, actor, c).await?;
    if new {
        // Paid before the system: no payment of this system's funds is made for it.
        crate::on_tx!(tx, |x| sqlx::query("UPDATE claim SET status = 'paid' WHERE claim_id = $1")
            .bind(id)
            .execute(&mut **x)
            .await
            .map(|_| ())?);
    }
    Ok(id)
}

/// A grant checked against the registry, as the claim it is stored as.
async fn build(db: &Db, actor: Actor, key: &str, g: &PastGrant) -> Result<NewClaim> {
    let kind = ClaimKind::parse(&g.kind).map_err(|e| StoreError::invalid("kind", e))?;
    if !(0..=jineng_domain::money::MAX_AMOUNT_FEN).contains(&g.amount_fen) {
        return Err(refuse("amount_fen", "amount.range", "金额须在0至100亿元之间", "0 to 10 billion yuan"));
    }
    let mut person: Option<(i64, String, String)> = None;
    if let Some(n) = g.id_number.as_deref() {
        let id = IdNumber::parse(n).map_err(|e| StoreError::invalid("id_number", e))?;
        person = with_pool!(db, |p| sqlx::query_as(
            "SELECT person_id, id_number, county_code FROM person WHERE id_number = $1"
        )
        .bind(id.as_str())
        .fetch_optional(p)
        .await?);
        if person.is_none() {
            return Err(refuse("id_number", "claim.unregistered", "未实名登记", "not in the registry"));
        }
    }
    let employer: Option<(i64, String, String)> = match g.employer_code.as_deref() {
        Some(code) => Some(
            with_pool!(db, |p| sqlx::query_as(
                "SELECT employer_id, credit_code, county_code FROM employer WHERE credit_code = $1"
            )
            .bind(code.trim())
            .fetch_optional(p)
            .await?)
            .ok_or_else(|| refuse("employer_code", "employer.unknown", "用人单位未登记", "no such employer"))?,
        ),
        None => None,
    };
    let provider: Option<(i64, String, String)> = match g.provider_code.as_deref() {
        Some(code) => Some(
            with_pool!(db, |p| sqlx::query_as(
                "SELECT provider_id, credit_code, county_code FROM provider WHERE credit_code = $1"
            )
            .bind(code.trim())
            .fetch_optional(p)
            .await?)
            .ok_or_else(|| refuse("provider_code", "provider.unknown", "培训机构未登记", "no such provider"))?,
        ),
        None => None,
    };
    let mut certificate_id = None;
    let mut request = serde_json::json!({"kind": kind.code(), "imported": true});
    let mut project = None;
    let needs_person = !matches!(kind, ClaimKind::ProjectTraining | ClaimKind::EquipmentGrant);
    if needs_person && person.is_none() {
        return Err(refuse("id_number", "claim.required", "必填", "required"));
    }
    match kind {
        ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy => {
            let serial = g
                .certificate_serial
                .as_deref()
                .ok_or_else(|| refuse("certificate_serial", "claim.required", "必填", "required"))?;
            let pid = person.as_ref().map(|p| p.0).unwrap_or(0);
            certificate_id = with_pool!(db, |p| sqlx::query_scalar(
                "SELECT certificate_id FROM certificate WHERE person_id = $1 AND serial = $2"
            )
            .bind(pid)
            .bind(serial.trim())
            .fetch_optional(p)
            .await?);
            if certificate_id.is_none() {
                return Err(refuse(
                    "certificate_serial",
                    "claim.not_own_certificate",
                    "该人员没有此编号的证书",
                    "the person holds no certificate with this serial",
                ));
            }
        }
        ClaimKind::OnTheJob | ClaimKind::PreJob | ClaimKind::Apprenticeship => {
            if employer.is_none() {
                return Err(refuse("employer_code", "claim.required", "必填", "required"));
            }
            if kind == ClaimKind::OnTheJob {
                let months = g.months.ok_or_else(|| refuse("months", "claim.required", "必填", "required"))?;
                if !(1..=120).contains(&months) {
                    return Err(refuse("months", "claim.months", "月数应为1至120", "1 to 120 months"));
                }
                request["months"] = months.into();
            }
        }
        ClaimKind::ProjectTraining => {
            let code = g
                .project_code
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| refuse("project_code", "claim.required", "必填", "required"))?;
            let stage = match g.stage.as_deref() {
                Some(s @ ("advance" | "settlement")) => s,
                _ => return Err(refuse("stage", "claim.stage", "应为预拨或清算", "advance or settlement")),
            };
            request["stage"] = stage.into();
            project = Some(match (&provider, &employer) {
                (Some(p), _) => project_ref('p', p.0, code),
                (None, Some(e)) => project_ref('e', e.0, code),
                _ => return Err(refuse("provider_code", "claim.required", "必填", "required")),
            });
        }
        ClaimKind::EquipmentGrant => {
            let Some(f) = g.facility_id else {
                return Err(refuse("facility_id", "claim.required", "必填", "required"));
            };
            let owner: Option<i64> =
                with_pool!(db, |p| sqlx::query_scalar("SELECT employer_id FROM facility WHERE facility_id = $1")
                    .bind(f)
                    .fetch_optional(p)
                    .await?);
            if owner.is_none() || owner != employer.as_ref().map(|e| e.0) {
                return Err(refuse(
                    "facility_id",
                    "claim.facility",
                    "不是该单位登记的基地或工作室",
                    "not this employer's facility",
                ));
            }
        }
        ClaimKind::LivingAllowance => {}
    }
    let payee = match (kind, &provider, &employer, &person) {
        (ClaimKind::ProjectTraining, Some(p), _, _) => serde_json::json!({"provider": p.1}),
        (ClaimKind::TrainingSubsidy | ClaimKind::SkillUpgradeSubsidy | ClaimKind::LivingAllowance, _, _, Some(p)) => {
            serde_json::json!({"person": p.1})
        }
        (_, _, Some(e), _) => serde_json::json!({"employer": e.1}),
        (_, Some(p), _, _) => serde_json::json!({"provider": p.1}),
        (_, _, _, Some(p)) => serde_json::json!({"person": p.1}),
        _ => serde_json::Value::Null,
    };
    let county = person
        .as_ref()
        .map(|p| p.2.clone())
        .or_else(|| employer.as_ref().map(|e| e.2.clone()))
        .or_else(|| provider.as_ref().map(|p| p.2.clone()))
        .unwrap_or_default();
    let fund = jineng_policy::decision::Fund::of(kind).code();
    let decision = serde_json::json!({
        "claim": key, "outcome": "approved", "amount_fen": g.amount_fen, "payee": payee, "fund": fund,
        "clauses": [], "reasons": [], "parameters": [], "imported": true,
        "note": "系统上线前已发放，据历史记录登记 / granted before the system, recorded from the bureau's records",
    });
    Ok(NewClaim {
        idempotency_key: format!("granted:{}", key.trim()),
        kind: kind.code().into(),
        person_id: person.as_ref().map(|p| p.0),
        certificate_id,
        county_code: county,
        filed_on: g.granted_on,
        outcome: "approved".into(),
        amount_fen: g.amount_fen,
        payee: payee.to_string(),
        fund: fund.into(),
        decision: decision.to_string(),
        snapshot: "{}".into(),
        employer_id: employer.as_ref().map(|e| e.0),
        provider_id: provider.as_ref().map(|p| p.0),
        project_ref: project,
        request: Some(request.to_string()),
        filed_by: actor,
        held_for: None,
        facility_id: g.facility_id,
        covers: Vec::new(),
    })
}

/// The columns of the record of subsidies granted before (its template's header row).
pub const SHEET_HEADERS: [&str; 12] = [
    "记录号 Record no. (不重复 unique)",
    "补贴类型 Kind (职业培训补贴 / training_subsidy …)",
    "身份证号 ID number",
    "用人单位信用代码 Employer credit code",
    "培训机构信用代码 Provider credit code",
    "证书编号 Certificate serial",
    "项目编号 Project number",
    "阶段 Stage (预拨 advance / 清算 settlement)",
    "月数 Months",
    "基地或工作室编号 Facility no.",
    "发放日期 Granted on (YYYY-MM-DD)",
    "金额（元）Amount (yuan)",
];

const FIELDS: [&str; 12] = [
    "key",
    "kind",
    "id_number",
    "employer_code",
    "provider_code",
    "certificate_serial",
    "project_code",
    "stage",
    "months",
    "facility_id",
    "granted_on",
    "amount_fen",
];

/// The column (letter and header) of a field of the sheet.
pub fn sheet_column(field: &str) -> String {
    let i = FIELDS.iter().position(|f| *f == field).unwrap_or(0);
    let header = SHEET_HEADERS[i].split(' ').next().unwrap_or("");
    format!("{} {header}", (b'A' + i as u8) as char)
}

/// The template of the sheet: its header row, the number columns as text.
pub fn sheet_template() -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("历史补贴发放记录")?;
    for (i, h) in SHEET_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, 20)?;
    }
    for c in [0, 2, 3, 4, 5, 6] {
        ws.set_column_format(c, &text)?;
    }
    wb.save_to_buffer()
}

/// A sheet as read: (row number, record no., grant) per row, and the unreadable rows.
pub type SheetRead = (Vec<(usize, String, PastGrant)>, Vec<crate::roster::RowError>);

/// Reads the record of subsidies granted before from `.xlsx` or CSV (first row the template's
/// header): the kind by its code or Chinese name, the amount in yuan.
pub fn parse_sheet(bytes: &[u8]) -> std::result::Result<SheetRead, Invalid> {
    use crate::roster::RowError;
    let rows = crate::sheet::read_template::<12>(bytes, &SHEET_HEADERS)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (row, cells) in rows {
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let before = errors.len();
        let mut text = |i: usize| -> Option<String> {
            match &cells[i] {
                Some(Ok(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Some(Err(e)) => {
                    errors.push(RowError { row, column: sheet_column(FIELDS[i]), reason: (*e).to_owned() });
                    None
                }
                _ => None,
            }
        };
        let cols: Vec<Option<String>> = (0..12).map(&mut text).collect();
        let mut bad = |i: usize, reason: &str| {
            errors.push(RowError { row, column: sheet_column(FIELDS[i]), reason: reason.into() })
        };
        let key = cols[0].clone().unwrap_or_default();
        if key.is_empty() || key.chars().count() > 100 {
            bad(0, "记录号必填且不超过100字 / a record no. of 1 to 100 characters");
        }
        let kind = cols[1].clone().unwrap_or_default();
        let kind = ClaimKind::ALL.iter().find(|k| k.code() == kind || k.zh() == kind).map(|k| k.code().to_owned());
        if kind.is_none() {
            bad(1, "补贴类型无效 / unknown kind");
        }
        let stage = match cols[7].as_deref() {
            None => None,
            Some("预拨" | "先行拨付" | "advance") => Some("advance".to_owned()),
            Some("清算" | "结算" | "settlement") => Some("settlement".to_owned()),
            Some(_) => {
                bad(7, "应为预拨或清算 / advance or settlement");
                None
            }
        };
        let months = cols[8].as_deref().map(|m| m.parse::<i64>());
        if matches!(months, Some(Err(_))) {
            bad(8, "月数应为整数 / a whole number of months");
        }
        let facility = cols[9].as_deref().map(|m| m.parse::<i64>());
        if matches!(facility, Some(Err(_))) {
            bad(9, "编号应为整数 / a number");
        }
        let granted_on = cols[10].as_deref().map(|d| d.replace('/', "-").parse::<NaiveDate>());
        if !matches!(granted_on, Some(Ok(_))) {
            bad(10, "日期应为 YYYY-MM-DD / a date as YYYY-MM-DD");
        }
        let amount = cols[11].as_deref().map(jineng_domain::Money::parse_yuan);
        if !matches!(amount, Some(Ok(_))) {
            bad(11, "金额应为元，如 1200 或 1200.50 / an amount in yuan, e.g. 1200.50");
        }
        if errors.len() > before {
            continue;
        }
        let grant = PastGrant {
            kind: kind.unwrap_or_default(),
            id_number: cols[2].clone(),
            employer_code: cols[3].clone(),
            provider_code: cols[4].clone(),
            certificate_serial: cols[5].clone(),
            project_code: cols[6].clone(),
            stage,
            months: months.and_then(|m| m.ok()),
            facility_id: facility.and_then(|f| f.ok()),
            granted_on: granted_on.and_then(|d| d.ok()).unwrap_or_default(),
            amount_fen: amount.and_then(|a| a.ok()).map(|m| m.fen()).unwrap_or(0),
        };
        out.push((row, key, grant));
    }
    Ok((out, errors))
}

/// Records a sheet of subsidies granted before, all rows or none: every row is checked first
/// (each wrong row named with its column), then all are recorded in one transaction (a record
/// no. recorded before is left as it is). Returns how many rows were recorded.
pub async fn record_sheet(
    db: &Db,
    actor: Actor,
    rows: &[(usize, String, PastGrant)],
) -> Result<std::result::Result<usize, Vec<crate::roster::RowError>>> {
    let mut errors = Vec::new();
    let mut built = Vec::with_capacity(rows.len());
    for (row, key, g) in rows {
        match build(db, actor, key, g).await {
            Ok(c) => built.push(c),
            Err(e) => match e {
                StoreError::Invalid { field, reason } => errors.push(crate::roster::RowError {
                    row: *row,
                    column: sheet_column(&field),
                    reason: format!("{} / {}", reason.zh, reason.en),
                }),
                other => return Err(other),
            },
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut tx = db.begin().await?;
    for c in &built {
        store(&mut tx, actor, c).await?;
    }
    tx.commit().await?;
    Ok(Ok(built.len()))
}
