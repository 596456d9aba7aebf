//! The policy engine on the web: `POST /api/v1/adjudicate`, the parameter page (政策参数) where
//! the city schedules new values, and the page that explains each decision rule by rule.

use crate::auth::{Access, Auth, CurrentUser, Route, ADMIN, DECIDERS, STAFF};
use crate::error::{AppError, ErrorBody};
use crate::guard::CsrfForm;
use crate::render::{form_result, render_page, Done, OrPage, PageError};
use crate::state::AppState;
use crate::views::{parameter_views, ParameterView};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, NaiveDate};
use jineng_policy::{Decision, Engine, Key, Params};
use jineng_store::parameters;
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

/// Routes of this module.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        Route::get("/policy/parameters", Roles(STAFF), parameters_page_get),
        Route::post("/policy/parameters", Roles(ADMIN), parameters_form),
        Route::get("/policy/explain", Roles(DECIDERS), explain_page_get),
        Route::post("/policy/explain", Roles(DECIDERS), explain_form).limit(CASE_LIMIT),
        Route::post("/api/v1/adjudicate", Roles(DECIDERS), adjudicate).limit(CASE_LIMIT),
        Route::get("/api/v1/parameters", Roles(STAFF), list_parameters),
        Route::post("/api/v1/parameters", Roles(ADMIN), schedule_parameter),
    ]
}

/// The largest case the web decides (bigger ones: `jineng adjudicate FILE`).
const CASE_LIMIT: usize = 2 * 1024 * 1024;

/// The API of this module.
#[derive(OpenApi)]
#[openapi(paths(adjudicate, list_parameters, schedule_parameter))]
pub struct Api;

/// Decisions as the contract prints them.
#[derive(Serialize, ToSchema)]
pub struct Decisions {
    /// One per claim, in the order decided.
    #[schema(value_type = Vec<Object>)]
    pub decisions: serde_json::Value,
}

fn bad_input(e: jineng_policy::BadInput) -> AppError {
    AppError::Invalid(BTreeMap::from([(e.path, e.message)]))
}

/// Decide every claim of a case (the contract `jineng-case/1`). Bad input: 422 naming the JSON
/// path and the reason; nothing is decided.
#[utoipa::path(post, path = "/api/v1/adjudicate", request_body(content = Object, description = "a case, jineng-case/1"),
    responses((status = 200, body = Decisions), (status = 422, body = ErrorBody)))]
pub async fn adjudicate(State(st): State<AppState>, body: String) -> Result<Json<Decisions>, AppError> {
    let checked = jineng_policy::parse(&body).map_err(bad_input)?;
    let params = parameters::effective(&st.db).await?;
    let region = parameters::region(&st.db).await?;
    let decisions = Engine::new(&params, &region).decide(&checked);
    let decisions = serde_json::to_value(&decisions).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(Decisions { decisions }))
}

/// Every parameter with its history, effective dates and sources.
#[utoipa::path(get, path = "/api/v1/parameters", responses((status = 200, body = [ParameterView])))]
pub async fn list_parameters(State(st): State<AppState>) -> Result<Json<Vec<ParameterView>>, AppError> {
    Ok(Json(parameter_views(&parameters::effective(&st.db).await?, st.clock.today())))
}

/// A new value from a future date.
#[derive(Deserialize, ToSchema)]
pub struct ScheduleInput {
    /// Dotted key, e.g. `living_allowance_fen_per_day`.
    pub key: String,
    /// First day in force (YYYY-MM-DD, after today).
    pub from: String,
    /// Value (fen, months, percent, count or years as the key says).
    pub value: i64,
    /// Where the figure comes from (e.g. the city's notice).
    pub source: String,
}

async fn schedule(st: &AppState, actor: i64, i: &ScheduleInput) -> Result<(), AppError> {
    let key = Key::parse(i.key.trim()).ok_or_else(|| AppError::field("key", "未知参数 / unknown parameter"))?;
    let from: NaiveDate =
        i.from.trim().parse().map_err(|_| AppError::field("from", "日期格式应为 YYYY-MM-DD / date as YYYY-MM-DD"))?;
    if from <= st.clock.today() {
        return Err(AppError::field("from", "新值只能从今后某日起生效，已作出的决定保留原值 / a new value starts after today; decisions made keep their values"));
    }
    let mut params = parameters::effective(&st.db).await?;
    if params.get(key).unit == "fen" && i.value > jineng_domain::money::MAX_AMOUNT_FEN {
        return Err(AppError::field("value", "金额不能超过100亿元 / at most 10 billion yuan"));
    }
    params.schedule(key, from, i.value, &i.source).map_err(|e| {
        let zh = match e.message.as_str() {
            "the plan fixes this value" => "方案已规定此值，不能调整 / the plan fixes this value",
            "a value without a source" => "请填写依据 / give the source",
            "negative value" => "不能为负数 / cannot be negative",
            _ => "生效日期须晚于该参数已有的最后一个值 / must start after the last value",
        };
        AppError::field(if zh.starts_with("请填写") { "source" } else { "value" }, zh)
    })?;
    parameters::schedule(&st.db, actor, key.name(), from, i.value, i.source.trim()).await?;
    Ok(())
}

/// Schedule a new value of a parameter from a future date (city admin). Values the plan fixes are refused.
#[utoipa::path(post, path = "/api/v1/parameters", request_body = ScheduleInput,
    responses((status = 201, body = [ParameterView]), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn schedule_parameter(
    State(st): State<AppState>,
    CurrentUser(u): CurrentUser,
    Json(i): Json<ScheduleInput>,
) -> Result<(StatusCode, Json<Vec<ParameterView>>), AppError> {
    schedule(&st, u.user_id, &i).await?;
    Ok((StatusCode::CREATED, Json(parameter_views(&parameters::effective(&st.db).await?, st.clock.today()))))
}

fn parameters_page(
    st: &AppState,
    auth: &Auth,
    params: &Params,
    error: Option<(&AppError, &ScheduleForm)>,
    can_edit: bool,
) -> Result<Html<String>, PageError> {
    let (errors, error, typed) = match error {
        Some((e, typed)) => (Value::from_serialize(e.fields()), e.general(), Value::from_serialize(typed)),
        None => (Value::from(()), None, Value::from(())),
    };
    let today = st.clock.today();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    render_page(
        st,
        auth,
        "parameters.html",
        context! { params => Value::from_serialize(parameter_views(params, today)), errors, error, typed, can_edit, tomorrow },
    )
}

/// `GET /policy/parameters`
pub async fn parameters_page_get(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
) -> Result<Html<String>, PageError> {
    let params = parameters::effective(&st.db).await.page(&auth)?;
    parameters_page(&st, &auth, &params, None, u.role == jineng_domain::Role::CityAdmin)
}

/// The scheduling form.
#[derive(Deserialize, Serialize)]
pub struct ScheduleForm {
    key: String,
    from: String,
    value: String,
    source: String,
}

/// A value as a person types it, in the parameter's unit: money in yuan (`1200`, `1,200.50`;
/// stored in fen, parsed exactly), anything else a whole number of months, percent, times or
/// years. The API takes the stored figure (fen) as it is.
fn typed_value(key: &str, typed: &str) -> Result<i64, AppError> {
    let money = Key::parse(key.trim()).is_some_and(|k| Params::shipped().get(k).unit == "fen");
    if money {
        return jineng_domain::Money::parse_yuan(typed).map(|m| m.fen()).map_err(|_| {
            AppError::field(
                "value",
                "请按元填写金额，如 1200 或 1200.50（最多两位小数）/ an amount in yuan, e.g. 1200 or 1200.50",
            )
        });
    }
    typed.trim().replace(',', "").parse::<i64>().map_err(|_| {
        AppError::field(
            "value",
            "请填写整数（月数、百分比、次数或年数）/ a whole number (months, percent, times or years)",
        )
    })
}

/// `POST /policy/parameters`
pub async fn parameters_form(
    State(st): State<AppState>,
    auth: Auth,
    CurrentUser(u): CurrentUser,
    CsrfForm(f): CsrfForm<ScheduleForm>,
) -> Result<Response, PageError> {
    let result = match typed_value(&f.key, &f.value) {
        Ok(value) => {
            let input = ScheduleInput { key: f.key.clone(), from: f.from.clone(), value, source: f.source.clone() };
            schedule(&st, u.user_id, &input).await
        }
        Err(e) => Err(e),
    };
    let result = result.map(|()| {
        Done::new(
            "/policy/parameters",
            format!("已设定新值，自 {} 起生效 / the new value takes effect on {}", f.from.trim(), f.from.trim()),
        )
    });
    form_result(auth, result, |e, auth| async move {
        let params = parameters::effective(&st.db).await.page(&auth)?;
        parameters_page(&st, &auth, &params, Some((&e, &f)), true)
    })
    .await
}

const EXAMPLE: &str = include_str!("../../../policy/cases/contract-example-yearly-cap-and-on-the-job.json");

/// The certificate kinds a trial offers, as people name them.
const CERT_KINDS: &[(&str, &str, &str)] = &[
    ("skill_level", "职业技能等级证书", "skill-level certificate"),
    ("qualification", "职业资格证书", "vocational qualification"),
    ("special_ability", "专项职业能力证书", "special-ability certificate"),
    ("special_operation", "特种作业操作证书", "special-operation certificate"),
    ("training_completion", "培训合格证书", "training-completion certificate"),
];

/// "Outside the city" on the trial's county choices (a Beijing district: any code of another region).
const ELSEWHERE: &str = "110101";

/// The trial in words: one worker, one training and the certificate it led to. Every field is
/// kept as typed so that the form shows it again; `case`, when given, is a whole case file
/// (jineng-case/1) instead, for those who write cases.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct TrialForm {
    case: Option<String>,
    group: String,
    group_from: String,
    hukou: String,
    rural: String,
    pension: String,
    insured_since: String,
    birth: String,
    training_kind: String,
    occupation: String,
    level: String,
    county: String,
    start: String,
    end: String,
    days: String,
    attended: String,
    in_system: String,
    project_based: String,
    cert_kind: String,
    issued: String,
    earlier: String,
}

impl TrialForm {
    /// The page's first example: a registered poor worker of the first county, a fifteen-day
    /// course for a level-5 elderly-care certificate.
    fn example(first_county: &str) -> TrialForm {
        let s = |v: &str| v.to_owned();
        TrialForm {
            case: None,
            group: s("poor_worker"),
            group_from: s("2018-01-01"),
            hukou: s(first_county),
            rural: s("1"),
            pension: String::new(),
            insured_since: String::new(),
            birth: s("1990-05-10"),
            training_kind: s("employment"),
            occupation: s("4-10-01-05"),
            level: s("5"),
            county: s(first_county),
            start: s("2020-01-06"),
            end: s("2020-01-20"),
            days: s("15"),
            attended: s("15"),
            in_system: s("1"),
            project_based: String::new(),
            cert_kind: s("skill_level"),
            issued: s("2020-01-25"),
            earlier: s("0"),
        }
    }

    /// The case this trial describes, with the claims the certificate brings, or every field
    /// that is wrong, each with its reason.
    fn case(&self, engine: &Engine<'_>) -> Result<jineng_policy::Checked, AppError> {
        use jineng_policy::case::{Certificate, Granted, Group, Person, Training};
        let mut errors = BTreeMap::new();
        let mut bad = |field: &str, why: &str| {
            errors.entry(field.to_owned()).or_insert_with(|| why.to_owned());
        };
        let date = |field: &str, v: &str, required: bool, bad: &mut dyn FnMut(&str, &str)| -> Option<NaiveDate> {
            let v = v.trim();
            if v.is_empty() {
                if required {
                    bad(field, "请填写日期 / a date is needed");
                }
                return None;
            }
            let d = v.parse().ok();
            if d.is_none() {
                bad(field, "日期格式应为 YYYY-MM-DD / date as YYYY-MM-DD");
            }
            d
        };
        let number = |field: &str, v: &str, max: i64, bad: &mut dyn FnMut(&str, &str)| -> i64 {
            match v.trim().parse::<i64>() {
                Ok(n) if (0..=max).contains(&n) => n,
                _ => {
                    bad(field, &format!("请填写 0 到 {max} 之间的整数 / a whole number from 0 to {max}"));
                    0
                }
            }
        };
        let group = match self.group.trim() {
            "" => None,
            g => {
                let parsed = jineng_domain::PriorityGroup::parse(g).ok();
                if parsed.is_none() {
                    bad("group", "请从列表中选择 / choose from the list");
                }
                parsed
            }
        };
        let group_from = date("group_from", &self.group_from, group.is_some(), &mut bad);
        let birth = date("birth", &self.birth, true, &mut bad);
        let insured_since = date("insured_since", &self.insured_since, false, &mut bad);
        let start = date("start", &self.start, true, &mut bad);
        let end = date("end", &self.end, true, &mut bad);
        let issued = date("issued", &self.issued, true, &mut bad);
        let area = |field: &str, v: &str, bad: &mut dyn FnMut(&str, &str)| {
            let a = jineng_domain::AreaCode::parse(v).ok();
            if a.is_none() {
                bad(field, "请从列表中选择县区 / choose a county from the list");
            }
            a
        };
        let hukou = area("hukou", &self.hukou, &mut bad);
        let county = area("county", &self.county, &mut bad);
        let kind = jineng_domain::TrainingKind::parse(&self.training_kind).ok();
        if kind.is_none() {
            bad("training_kind", "请从列表中选择 / choose from the list");
        }
        let occupation = self.occupation.trim().to_owned();
        let code_shape = occupation.len() == 10
            && occupation.bytes().enumerate().all(|(i, b)| if i % 3 == 1 { b == b'-' } else { b.is_ascii_digit() });
        if !code_shape {
            bad("occupation", "职业编码形如 4-10-01-05 / an occupation code looks like 4-10-01-05");
        }
        let level = match self.level.trim() {
            "" => None,
            l => match l.parse::<u8>() {
                Ok(n) if (1..=5).contains(&n) => Some(n),
                _ => {
                    bad("level", "等级为 1 至 5 级 / a level is 1 to 5");
                    None
                }
            },
        };
        let days = number("days", &self.days, 3650, &mut bad);
        let attended = number("attended", &self.attended, 3650, &mut bad);
        if days == 0 {
            bad("days", "培训至少 1 天 / at least one day");
        }
        if days > 0 && attended > days {
            bad("attended", "实到天数不能多于培训天数 / no more days attended than days of training");
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                bad("end", "结束日期不能早于开始日期 / the last day comes after the first");
            }
        }
        if let (Some(e), Some(i)) = (end, issued) {
            if i < e {
                bad("issued", "发证日期不能早于培训结束 / a certificate is issued after the training ends");
            }
        }
        if let (Some(b), Some(s)) = (birth, start) {
            if b >= s {
                bad("birth", "出生日期须早于培训 / born before the training");
            }
        }
        let cert_kind: Option<jineng_policy::case::CertKind> =
            serde_json::from_value(serde_json::Value::String(self.cert_kind.trim().to_owned())).ok();
        match cert_kind {
            None => bad("cert_kind", "请从列表中选择 / choose from the list"),
            Some(k) => {
                use jineng_policy::case::CertKind::*;
                if matches!(k, Qualification | SkillLevel) && level.is_none() {
                    bad("level", "职业资格和技能等级证书须有等级 / this certificate has a level");
                }
            }
        }
        let earlier = number("earlier", &self.earlier, 10, &mut bad);
        let (
            Some(birth),
            Some(hukou),
            Some(county),
            Some(kind),
            Some(start),
            Some(end),
            Some(issued),
            Some(cert_kind),
            true,
        ) = (birth, hukou, county, kind, start, end, issued, cert_kind, errors.is_empty())
        else {
            return Err(AppError::Invalid(errors));
        };
        let id = jineng_domain::IdNumber::from_parts(hukou, birth, 16).as_str().to_owned();
        let provider = "52411702MA3X00010J".to_owned();
        let mut case = jineng_policy::Case::new("试算 trial");
        case.people.push(Person {
            id_number: id.clone(),
            name: "试算人员".into(),
            hukou: hukou.to_string(),
            residence: hukou.to_string(),
            rural: !self.rural.is_empty(),
            monthly_pension: !self.pension.is_empty(),
            insured_since,
            groups: group
                .zip(group_from)
                .map(|(group, from)| vec![Group { group, from, to: None }])
                .unwrap_or_default(),
            ..Person::default()
        });
        case.trainings.push(Training {
            id: "t1".into(),
            person: id.clone(),
            kind,
            occupation: occupation.clone(),
            level,
            county: county.to_string(),
            provider,
            start,
            end,
            days,
            attended_days: attended,
            in_system: !self.in_system.is_empty(),
            project_based: !self.project_based.is_empty(),
            ..Training::default()
        });
        case.certificates.push(Certificate {
            id: "c1".into(),
            person: id.clone(),
            training: Some("t1".into()),
            kind: cert_kind,
            occupation,
            level,
            issued,
            serial: "试算".into(),
        });
        // Earlier certificate subsidies the same year: other occupations, a day apart, before this one.
        for n in 0..earlier {
            case.granted.push(Granted {
                kind: Some(jineng_policy::ClaimKind::TrainingSubsidy),
                person: Some(id.clone()),
                occupation: Some(format!("0-00-00-{:02}", n + 1)),
                level: Some(5),
                date: Some(issued.with_ordinal(1).unwrap_or(issued).max(issued - chrono::Duration::days(n + 1))),
                ..Granted::default()
            });
        }
        let claims = jineng_policy::claims_brought_by(engine, &case, &id, &["c1"]).map_err(bad_input)?;
        case.claims = claims;
        jineng_policy::check(case).map_err(bad_input)
    }
}

fn explain_page(
    st: &AppState,
    auth: &Auth,
    trial: &TrialForm,
    result: Option<(Vec<Decision<'_>>, serde_json::Value)>,
    error: Option<&AppError>,
    counties: &[jineng_store::plan::CountyRow],
) -> Result<Html<String>, PageError> {
    let quotes: BTreeMap<&str, &str> = jineng_policy::clauses::QUOTES.iter().copied().collect();
    let (decisions, claims) = result.unwrap_or_default();
    let (errors, error) = match error {
        Some(e) => (Value::from_serialize(e.fields()), e.general()),
        None => (Value::from(()), None),
    };
    let groups: Vec<_> = jineng_domain::PriorityGroup::ALL.iter().map(|g| (g.code(), g.zh(), g.en())).collect();
    let kinds: Vec<_> = jineng_domain::TrainingKind::ALL.iter().map(|k| (k.code(), k.zh())).collect();
    let case = trial.case.as_deref().unwrap_or(EXAMPLE);
    render_page(
        st,
        auth,
        "explain.html",
        context! {
            case, t => Value::from_serialize(trial), errors, error, words => trial.case.is_none(),
            counties => Value::from_serialize(counties), elsewhere => ELSEWHERE,
            groups, kinds, cert_kinds => CERT_KINDS,
            decisions => Value::from_serialize(&decisions), claims => Value::from_serialize(&claims), quotes => Value::from_serialize(&quotes),
        },
    )
}

/// `GET /policy/explain`: a trial in words (a worker, a training, a certificate), with an example filled in.
pub async fn explain_page_get(State(st): State<AppState>, auth: Auth) -> Result<Html<String>, PageError> {
    let counties = jineng_store::plan::counties(&st.db).await.page(&auth)?;
    let first = counties.first().map(|c| c.county_code.as_str()).unwrap_or(ELSEWHERE);
    explain_page(&st, &auth, &TrialForm::example(first), None, None, &counties)
}

/// `POST /policy/explain`: the claims the trial's certificate brings (or a whole case's claims),
/// each decided rule by rule with the clause text and the parameters.
pub async fn explain_form(
    State(st): State<AppState>,
    auth: Auth,
    CsrfForm(f): CsrfForm<TrialForm>,
) -> Result<Response, PageError> {
    let params = parameters::effective(&st.db).await.page(&auth)?;
    let region = parameters::region(&st.db).await.page(&auth)?;
    let counties = jineng_store::plan::counties(&st.db).await.page(&auth)?;
    let engine = Engine::new(&params, &region);
    let checked = match &f.case {
        Some(case) => jineng_policy::parse(case).map_err(|e| {
            AppError::Invalid(BTreeMap::from([(
                "case".to_owned(),
                format!("案例文件有误，位置 {} / bad case file at {}: {}", e.path, e.path, e.message),
            )]))
        }),
        None => f.case(&engine),
    };
    let checked = match checked {
        Ok(c) => c,
        Err(e) => {
            let page = explain_page(&st, &auth, &f, None, Some(&e), &counties)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let decisions = engine.explaining().decide(&checked);
    let claims: serde_json::Map<String, serde_json::Value> =
        checked.case.claims.iter().map(|c| (c.id.clone(), serde_json::to_value(c).unwrap_or_default())).collect();
    Ok(explain_page(&st, &auth, &f, Some((decisions, claims.into())), None, &counties)?.into_response())
}
