//! Assessment (结业考核 / 评价) by a listed assessment body: a result per trainee of an approved
//! class; a pass completes the training (one person-time) and issues the certificate, whose
//! serial is unique per body. All in one transaction.

use crate::audit::{self, Actor};
use crate::{in_tx, now, with_pool, Db, Result, StoreError};
use chrono::NaiveDate;
use jineng_domain::{IdNumber, Invalid};
use serde::Serialize;

/// Certificate kinds (the contract's codes).
pub const CERT_KINDS: &[(&str, &str)] = &[
    ("qualification", "职业资格证书"),
    ("skill_level", "职业技能等级证书"),
    ("special_ability", "专项职业能力证书"),
    ("special_operation", "特种作业操作证书"),
    ("training_completion", "培训合格证书"),
];

/// Who a result is for: a trainee named by ID number (the API), or an enrolment of the class
/// (the roster's row on the class page).
#[derive(Debug, Clone)]
pub enum Trainee {
    /// By ID number.
    IdNumber(IdNumber),
    /// By enrolment; one of another class is not found.
    Enrolment(i64),
}

/// A result to record.
#[derive(Debug, Clone)]
pub struct Result_ {
    /// The trainee.
    pub trainee: Trainee,
    /// Date assessed (the certificate's issue date when passed).
    pub assessed_on: NaiveDate,
    /// Score 0–100, if scored.
    pub score: Option<i64>,
    pub passed: bool,
    /// Certificate kind (when passed).
    pub kind: String,
    /// Certificate serial, unique per body (when passed).
    pub serial: String,
    /// The certificate's occupation and level when the body certified another than the class
    /// trains for (a trainee of a level-4 class certified at level 5); None: the class's.
    /// (A None occupation: the class's.)
    pub certified_as: Option<(Option<String>, Option<u8>)>,
}

/// A certificate as listed.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CertificateRow {
    pub certificate_id: i64,
    pub person_id: i64,
    pub kind: String,
    /// Occupation code.
    pub occupation_code: String,
    /// Occupation name.
    pub occupation_name: String,
    pub level: Option<i64>,
    pub serial: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Issuing body.
    pub body_name: String,
}

/// A result recorded.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// The trainee.
    pub person_id: i64,
    /// The certificate issued (none when failed).
    pub certificate: Option<i64>,
}

/// Records a result; a pass completes the training and issues the certificate.
pub async fn record(db: &Db, actor: Actor, body_id: i64, class_id: i64, r: &Result_) -> Result<Recorded> {
    let body: Option<(String,)> =
        with_pool!(db, |p| sqlx::query_as("SELECT status FROM assessment_body WHERE assessment_body_id = $1")
            .bind(body_id)
            .fetch_optional(p)
            .await?);
    if !matches!(body, Some((ref s,)) if s == "listed") {
        return Err(StoreError::invalid(
            "assessment_body",
            Invalid::new("body.not_listed", "评价机构不在目录中，不能评价发证", "the assessment body is not listed"),
        ));
    }
    type ClassTerms = (String, NaiveDate, String, Option<i64>, Option<i64>);
    let class: Option<ClassTerms> = with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT status, start_date, occupation_code, level, assessment_body_id FROM training_class WHERE class_id = $1"
    )
    .bind(class_id)
    .fetch_optional(p)
    .await?
    });
    let Some((status, start, class_occupation, class_level, named)) = class else { return Err(StoreError::NotFound) };
    let (occupation, level) = match &r.certified_as {
        None => (class_occupation, class_level),
        Some((code, level)) => {
            let code = code.clone().unwrap_or(class_occupation);
            if level.is_some_and(|l| !(1..=5).contains(&l)) {
                return Err(StoreError::invalid(
                    "level",
                    Invalid::new("certificate.level_range", "等级应为1至5", "a level is 1 to 5"),
                ));
            }
            let known: Option<(String,)> =
                with_pool!(db, |p| sqlx::query_as("SELECT occupation_code FROM occupation WHERE occupation_code = $1")
                    .bind(code.trim().to_owned())
                    .fetch_optional(p)
                    .await?);
            if known.is_none() {
                return Err(StoreError::invalid(
                    "occupation_code",
                    Invalid::new("occupation.unknown", "职业编码不在目录中", "no such occupation in the catalog"),
                ));
            }
            (code.trim().to_owned(), level.map(i64::from))
        }
    };
    // Only the body the class names assesses it (classes from before bodies were named: any
    // listed body).
    if named.is_some_and(|b| b != body_id) {
        return Err(StoreError::invalid(
            "class",
            Invalid::new(
                "assessment.other_body",
                "本班由其申请时指定的评价机构考核",
                "the class is assessed by the body it named when it applied",
            ),
        ));
    }
    if status != "approved" {
        return Err(StoreError::invalid(
            "class",
            Invalid::new("assessment.not_approved", "培训班未经批准，不能评价", "the class is not approved"),
        ));
    }
    if r.assessed_on < start {
        return Err(StoreError::invalid(
            "assessed_on",
            Invalid::new("assessment.date", "考核日期早于开班日期", "assessed before the class started"),
        ));
    }
    if r.score.is_some_and(|s| !(0..=100).contains(&s)) {
        return Err(StoreError::invalid(
            "score",
            Invalid::new("assessment.score", "成绩应为0–100", "a score is 0 to 100"),
        ));
    }
    if r.passed {
        if !CERT_KINDS.iter().any(|(k, _)| *k == r.kind) {
            return Err(StoreError::invalid(
                "kind",
                Invalid::new("certificate.kind", "证书类型无效", "unknown certificate kind"),
            ));
        }
        if matches!(r.kind.as_str(), "qualification" | "skill_level") && level.is_none() {
            return Err(StoreError::invalid(
                "kind",
                Invalid::new(
                    "certificate.level",
                    "该班不分等级，不能发职业资格或技能等级证书",
                    "the class has no level: no qualification or skill-level certificate",
                ),
            ));
        }
        if r.serial.trim().is_empty() {
            return Err(StoreError::invalid(
                "serial",
                Invalid::new("certificate.serial", "证书编号不能为空", "the certificate needs a serial"),
            ));
        }
    }
    let (enrolment, person) = match &r.trainee {
        Trainee::IdNumber(id_number) => {
            let found: Option<(i64, i64)> = with_pool!(db, |p| {
                sqlx::query_as(
                "SELECT e.enrolment_id, e.person_id FROM enrolment e JOIN person p ON p.person_id = e.person_id WHERE e.class_id = $1 AND p.id_number = $2"
            )
            .bind(class_id)
            .bind(id_number.as_str())
            .fetch_optional(p)
            .await?
            });
            found.ok_or_else(|| {
                StoreError::invalid(
                    "id_number",
                    Invalid::new(
                        "assessment.not_enrolled",
                        format!("{} 不在本班花名册中", id_number.masked()),
                        "not on this class's roster",
                    ),
                )
            })?
        }
        Trainee::Enrolment(id) => {
            let found: Option<(i64, i64)> = with_pool!(db, |p| sqlx::query_as(
                "SELECT enrolment_id, person_id FROM enrolment WHERE enrolment_id = $1 AND class_id = $2"
            )
            .bind(id)
            .bind(class_id)
            .fetch_optional(p)
            .await?);
            found.ok_or(StoreError::NotFound)?
        }
    };
    let t = now();
    let certificate = in_tx!(db, |tx| {
        let assessment: i64 = sqlx::query_scalar(
            "INSERT INTO assessment (enrolment_id, assessment_body_id, assessed_on, score, passed, recorded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING assessment_id",
        )
        .bind(enrolment)
        .bind(body_id)
        .bind(r.assessed_on)
        .bind(r.score)
        .bind(r.passed)
        .bind(actor)
        .bind(t)
        .fetch_one(&mut *tx)
        .await?;
        let mut certificate = None;
        if r.passed {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO certificate (assessment_id, assessment_body_id, person_id, kind, occupation_code, level, serial, issued_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING certificate_id",
            )
            .bind(assessment)
            .bind(body_id)
            .bind(person)
            .bind(&r.kind)
            .bind(&occupation)
            .bind(level)
            .bind(r.serial.trim())
            .bind(r.assessed_on)
            .bind(t)
            .fetch_one(&mut *tx)
            .await?;
            certificate = Some(id);
            // A pass completes the training: one person-time toward the targets.
            let _completion: i64 = crate::training::complete_in!(tx, actor, enrolment, r.assessed_on);
        }
        audit::record(
            &mut *tx,
            actor,
            "assess",
            "assessment",
            &assessment.to_string(),
            &serde_json::json!({"class": class_id, "passed": r.passed, "certificate": certificate}),
        )
        .await?;
        certificate
    });
    Ok(Recorded { person_id: person, certificate })
}

/// Certificates of a person, newest first.
/// `provider`: only the certificates from that provider's classes.
pub async fn certificates_of(db: &Db, person_id: i64, provider: Option<i64>) -> Result<Vec<CertificateRow>> {
    Ok(with_pool!(db, |p| {
        sqlx::query_as(
        "SELECT c.certificate_id, c.person_id, c.kind, c.occupation_code, o.name AS occupation_name, c.level, c.serial, c.issued_on, COALESCE(b.name, c.issuer) AS body_name \
         FROM certificate c JOIN occupation o ON o.occupation_code = c.occupation_code LEFT JOIN assessment_body b ON b.assessment_body_id = c.assessment_body_id \
         WHERE c.person_id = $1 AND ($2 = 0 OR EXISTS (SELECT 1 FROM assessment s JOIN enrolment e ON e.enrolment_id = s.enrolment_id \
         JOIN training_class k ON k.class_id = e.class_id WHERE s.assessment_id = c.assessment_id AND k.provider_id = $2)) \
         ORDER BY c.issued_on DESC"
    )
    .bind(person_id)
    .bind(provider.unwrap_or(0))
    .fetch_all(p)
    .await?
    }))
}

/// A certificate as the appraisal register lists it (职业技能等级认定、职业资格 results issued
/// outside the system's classes).
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, utoipa::ToSchema)]
pub struct RegisteredCertificate {
    /// The holder's ID number.
    pub id_number: String,
    /// The holder's name (checked against the real-name registry).
    pub name: String,
    /// `qualification`, `skill_level`, `special_ability`, `special_operation`, `training_completion`.
    pub kind: String,
    /// Occupation code (in the catalog).
    pub occupation_code: String,
    /// Level 1–5 (required for qualifications and skill levels).
    #[serde(default)]
    pub level: Option<u8>,
    /// Serial printed on it (unique per issuer).
    pub serial: String,
    /// Issue date.
    pub issued_on: NaiveDate,
    /// The issuing body as the register names it.
    pub issuer: String,
}

/// A wrong row of a register import: its number (1 = the first row), the field and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterRowError {
    pub row: usize,
    pub field: String,
    /// Chinese first, then English.
    pub reason: String,
}

/// Records certificates from the appraisal register, all or none: every wrong row is named and
/// nothing is written then. A certificate already recorded (same issuer and serial) is left as
/// it is. Returns the new certificates as (person, certificate).
pub async fn record_from_register(
    db: &Db,
    actor: Actor,
    rows: &[RegisteredCertificate],
) -> Result<std::result::Result<Vec<(i64, i64)>, Vec<RegisterRowError>>> {
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let row = i + 1;
        let mut bad = |field: &str, zh: &str, en: &str| {
            errors.push(RegisterRowError { row, field: field.into(), reason: format!("{zh} / {en}") });
        };
        let id = match IdNumber::parse(&r.id_number) {
            Ok(id) => id,
            Err(e) => {
                bad("id_number", &e.zh, &e.en);
                continue;
            }
        };
        if !CERT_KINDS.iter().any(|(k, _)| *k == r.kind) {
            bad("kind", "证书类型无效", "unknown certificate kind");
            continue;
        }
        if r.level.is_some_and(|l| !(1..=5).contains(&l)) {
            bad("level", "等级应为1至5", "a level is 1 to 5");
            continue;
        }
        if matches!(r.kind.as_str(), "qualification" | "skill_level") && r.level.is_none() {
            bad("level", "职业资格和技能等级证书须有等级", "qualifications and skill levels have a level");
            continue;
        }
        let (serial, issuer) = (r.serial.trim(), r.issuer.trim());
        if serial.is_empty() || serial.chars().count() > 100 {
            bad("serial", "证书编号不能为空且不超过100字", "a serial of 1 to 100 characters");
            continue;
        }
        if issuer.is_empty() || issuer.chars().count() > 100 {
            bad("issuer", "发证机构不能为空且不超过100字", "the issuing body, 1 to 100 characters");
            continue;
        }
        let person: Option<(i64, String)> =
            with_pool!(db, |p| sqlx::query_as("SELECT person_id, name FROM person WHERE id_number = $1")
                .bind(id.as_str())
                .fetch_optional(p)
                .await?);
        // One answer whether the number is unknown or the name differs: the import tells no one
        // which ID numbers the registry holds.
        let Some(person_id) = person.filter(|(_, name)| name == r.name.trim()).map(|p| p.0) else {
            bad("name", "身份证号与姓名不在实名登记中", "the ID number and name are not in the real-name registry");
            continue;
        };
        let occupation: Option<String> =
            with_pool!(db, |p| sqlx::query_scalar("SELECT occupation_code FROM occupation WHERE occupation_code = $1")
                .bind(r.occupation_code.trim())
                .fetch_optional(p)
                .await?);
        if occupation.is_none() {
            bad("occupation_code", "职业编码不在目录中", "no such occupation in the catalog");
            continue;
        }
        checked.push((person_id, r));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let t = now();
    let out = in_tx!(db, |tx| {
        let mut out = Vec::new();
        for (person_id, r) in &checked {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO certificate (person_id, kind, occupation_code, level, serial, issued_on, created_at, issuer, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (issuer, serial) DO NOTHING RETURNING certificate_id",
            )
            .bind(person_id)
            .bind(&r.kind)
            .bind(r.occupation_code.trim())
            .bind(r.level.map(i64::from))
            .bind(r.serial.trim())
            .bind(r.issued_on)
            .bind(t)
            .bind(r.issuer.trim())
            .bind(actor)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = id {
                out.push((*person_id, id));
            }
        }
        audit::record(
            &mut *tx,
            actor,
            "import",
            "certificate",
            "register",
            &serde_json::json!({"rows": checked.len(), "new": out.len()}),
        )
        .await?;
        out
    });
    Ok(Ok(out))
}

/// The appraisal register's columns (its template's header row), Chinese first.
pub const REGISTER_HEADERS: [&str; 8] = [
    "身份证号 ID number",
    "姓名 Name",
    "证书类型 Kind (职业技能等级证书 / skill_level …)",
    "职业编码 Occupation code",
    "等级 Level (1–5, 可空 optional)",
    "证书编号 Serial",
    "发证日期 Issued on (YYYY-MM-DD)",
    "发证机构 Issuer",
];

/// The column (letter and header) of a field of the appraisal register.
pub fn register_column(field: &str) -> String {
    let i = ["id_number", "name", "kind", "occupation_code", "level", "serial", "issued_on", "issuer"]
        .iter()
        .position(|f| *f == field)
        .unwrap_or(0);
    let header = REGISTER_HEADERS[i].split(' ').next().unwrap_or("");
    format!("{} {header}", (b'A' + i as u8) as char)
}

/// The appraisal register's template: its header row, the ID and serial columns as text.
pub fn register_template() -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("职业技能评价证书登记")?;
    for (i, h) in REGISTER_HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, 22)?;
    }
    ws.set_column_format(0, &text)?;
    ws.set_column_format(5, &text)?;
    wb.save_to_buffer()
}

/// The appraisal register as read: rows with their sheet row numbers, and the unreadable rows.
pub type RegisterRead = (Vec<(usize, RegisteredCertificate)>, Vec<crate::roster::RowError>);

/// Reads the appraisal register from `.xlsx` or CSV (first row the template's header): the rows
/// with their sheet row numbers, and the rows that cannot be read (row, column, reason).
pub fn parse_register(bytes: &[u8]) -> std::result::Result<RegisterRead, Invalid> {
    use crate::roster::RowError;
    let rows = crate::sheet::read_template::<8>(bytes, &REGISTER_HEADERS)?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (row, cells) in rows {
        if cells.iter().all(Option::is_none) {
            continue;
        }
        let mut text = |i: usize, field: &str| -> String {
            match &cells[i] {
                Some(Ok(s)) => s.trim().to_owned(),
                Some(Err(e)) => {
                    errors.push(RowError { row, column: register_column(field), reason: (*e).to_owned() });
                    String::new()
                }
                None => String::new(),
            }
        };
        let (id_number, name, kind, occupation_code, level, serial, issued, issuer) = (
            text(0, "id_number"),
            text(1, "name"),
            text(2, "kind"),
            text(3, "occupation_code"),
            text(4, "level"),
            text(5, "serial"),
            text(6, "issued_on"),
            text(7, "issuer"),
        );
        // The kind by its code or its Chinese name.
        let kind =
            CERT_KINDS.iter().find(|(c, zh)| *c == kind || *zh == kind).map(|(c, _)| (*c).to_owned()).unwrap_or(kind);
        let level = if level.is_empty() {
            None
        } else {
            match level.parse::<u8>() {
                Ok(l) => Some(l),
                Err(_) => {
                    errors.push(RowError {
                        row,
                        column: register_column("level"),
                        reason: "等级应为1至5 / a level is 1 to 5".into(),
                    });
                    continue;
                }
            }
        };
        let Ok(issued_on) = issued.replace('/', "-").parse::<NaiveDate>() else {
            errors.push(RowError {
                row,
                column: register_column("issued_on"),
                reason: format!("日期“{issued}”无效，应为 YYYY-MM-DD / bad date"),
            });
            continue;
        };
        out.push((
            row,
            RegisteredCertificate { id_number, name, kind, occupation_code, level, serial, issued_on, issuer },
        ));
    }
    Ok((out, errors))
}
