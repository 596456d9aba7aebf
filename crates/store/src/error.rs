//! The errors of the store, and the one place where database constraint errors of SQLite and
//! PostgreSQL become typed refusals, so that the same mistake gets the same answer on both.

use jineng_domain::Invalid;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row (or not visible in the caller's scope).
    #[error("not found")]
    NotFound,
    /// The thing exists already, or changed while the caller acted on it.
    #[error("conflict {}: {}", .0.code, .0.reason)]
    Conflict(Conflict),
    /// A field was refused.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Field name.
        field: String,
        reason: Invalid,
    },
    /// Several fields or rows were refused (e.g. a roster): each with its path and reason.
    #[error("{} invalid rows or fields", .0.len())]
    Rows(Vec<(String, Invalid)>),
    /// A database failure.
    #[error(transparent)]
    Db(sqlx::Error),
    /// Migration failure.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A refusal because the thing exists already or changed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Stable code, e.g. `person.id_number_taken`, `claim.changed`.
    pub code: &'static str,
    /// The input field it concerns, if one (so that a form can show it there).
    pub field: Option<&'static str>,
    /// Why, in Chinese and English.
    pub reason: Invalid,
}

impl StoreError {
    /// A field-level refusal.
    pub fn invalid(field: &str, reason: Invalid) -> Self {
        StoreError::Invalid { field: field.to_owned(), reason }
    }

    /// A conflict with a stable code.
    pub fn conflict(code: &'static str, field: Option<&'static str>, zh: &str, en: &str) -> Self {
        StoreError::Conflict(Conflict { code, field, reason: Invalid::new(code, zh, en) })
    }
}

/// A unique constraint of the schema: its table, a column that identifies it (found in SQLite's
/// column list and in PostgreSQL's constraint name), and the refusal it means: code, field,
/// Chinese, English.
type UniqueRule = (&'static str, &'static str, &'static str, Option<&'static str>, &'static str, &'static str);

/// The unique constraints of the schema.
const UNIQUE: &[UniqueRule] = &[
    (
        "facility",
        "employer_id",
        "facility.name_taken",
        Some("name"),
        "本单位已登记同类同名设施",
        "this employer has registered a facility of that kind and name",
    ),
    (
        "person",
        "id_number",
        "person.id_number_taken",
        Some("id_number"),
        "身份证号已登记",
        "this ID number is already registered",
    ),
    (
        "employer",
        "credit_code",
        "org.credit_code_taken",
        Some("credit_code"),
        "统一社会信用代码已存在",
        "this credit code exists already",
    ),
    (
        "provider",
        "credit_code",
        "org.credit_code_taken",
        Some("credit_code"),
        "统一社会信用代码已存在",
        "this credit code exists already",
    ),
    (
        "assessment_body",
        "credit_code",
        "org.credit_code_taken",
        Some("credit_code"),
        "统一社会信用代码已存在",
        "this credit code exists already",
    ),
    ("app_user", "username", "user.username_taken", Some("username"), "用户名已存在", "username taken"),
    ("enrolment", "person_id", "enrolment.duplicate", Some("roster"), "已报名该班", "already enrolled in this class"),
    ("attendance", "day", "attendance.duplicate", Some("day"), "该学员当天已签到", "already checked in that day"),
    (
        "assessment",
        "enrolment_id",
        "assessment.duplicate",
        Some("id_number"),
        "该学员已考核",
        "this trainee is assessed already",
    ),
    (
        "certificate",
        "serial",
        "certificate.serial_taken",
        Some("serial"),
        "证书编号已被本机构使用",
        "the serial is used by this body already",
    ),
    ("certificate", "assessment_id", "certificate.duplicate", None, "该学员已发证", "a certificate was issued already"),
    ("claim", "idempotency_key", "claim.duplicate", None, "该申请已提交", "this claim was filed already"),
    (
        "parameter_version",
        "from_date",
        "parameter.duplicate",
        Some("from"),
        "该参数在此日期已有取值",
        "the parameter has a value from that date already",
    ),
    (
        "employment",
        "from_date",
        "employment.duplicate",
        None,
        "该就业记录已存在",
        "this employment is recorded already",
    ),
    ("payment", "claim_id", "payment.duplicate", None, "该申请已在拨付中", "the claim is being paid already"),
    (
        "target_proposal",
        "target_proposal",
        "proposal.open",
        Some("program"),
        "本单位对此目标已有待审的建议，请等待市人社局采纳或退回",
        "this department already has a proposal for this target awaiting the city's decision",
    ),
    (
        "earmark_proposal",
        "earmark_proposal",
        "earmark_proposal.open",
        Some("fund"),
        "该资金已有待审的预算额度建议，请等待市人社局采纳或退回",
        "this fund already has an earmark proposal awaiting the city's decision",
    ),
    (
        "bank_account",
        "payee_",
        "bank_account.concurrent",
        Some("account_no"),
        "该收款人的账户正由他人同时修改，请刷新后重试",
        "someone else is recording this payee's account at the same moment; reload and try again",
    ),
];

/// The typed refusal of a constraint error. `table` and `detail` come from the backend: on
/// SQLite the message's `table.column` list, on PostgreSQL the table and the constraint name.
pub fn conflict_of(table: &str, detail: &str) -> StoreError {
    UNIQUE
        .iter()
        .find(|(t, key, ..)| *t == table && detail.contains(key))
        .map(|&(_, _, code, field, zh, en)| StoreError::conflict(code, field, zh, en))
        .unwrap_or_else(|| StoreError::conflict("conflict.exists", None, "记录已存在", "already exists"))
}

/// The table and the identifying detail of a unique violation, on either backend.
fn unique_target(d: &dyn sqlx::error::DatabaseError) -> (String, String) {
    if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return (pg.table().unwrap_or_default().to_owned(), pg.constraint().unwrap_or_default().to_owned());
    }
    // SQLite: "UNIQUE constraint failed: enrolment.class_id, enrolment.person_id"
    let list = d.message().split_once(':').map(|(_, l)| l.trim()).unwrap_or_default();
    let table = list.split(['.', ',']).next().unwrap_or_default().trim().to_owned();
    (table, list.to_owned())
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                let (table, detail) = unique_target(d.as_ref());
                conflict_of(&table, &detail)
            }
            // No constraint or column name reaches a client: the same words on both backends.
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::Invalid {
                field: "reference".to_owned(),
                reason: Invalid::new("reference.unknown", "引用的记录不存在", "refers to a record that does not exist"),
            },
            sqlx::Error::Database(d) if d.is_check_violation() => StoreError::Invalid {
                field: "value".to_owned(),
                reason: Invalid::new("value.out_of_range", "取值超出允许范围", "a value is outside its allowed range"),
            },
            _ => StoreError::Db(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_name_the_same_conflict() {
        let code = |e: StoreError| match e {
            StoreError::Conflict(c) => c.code,
            _ => "",
        };
        // SQLite's column list and PostgreSQL's default constraint name.
        assert_eq!(code(conflict_of("person", "person.id_number")), "person.id_number_taken");
        assert_eq!(code(conflict_of("person", "person_id_number_key")), "person.id_number_taken");
        assert_eq!(code(conflict_of("enrolment", "enrolment.class_id, enrolment.person_id")), "enrolment.duplicate");
        assert_eq!(code(conflict_of("enrolment", "enrolment_class_id_person_id_key")), "enrolment.duplicate");
        assert_eq!(code(conflict_of("nothing", "x")), "conflict.exists");
    }
}
