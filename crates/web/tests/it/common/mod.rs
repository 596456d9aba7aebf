//! Test support: an app on a fresh database (SQLite or PostgreSQL) with one user per role,
//! driven in-process with `Router::oneshot`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use jineng_domain::Role;
use jineng_domain::{AreaCode, CreditCode, IdNumber, TrainingKind};
use jineng_store::orgs::{self, OrgInput, OrgKind};
use jineng_store::people::{self, NewPerson};
use jineng_store::testing::fresh;
use jineng_store::training::{self, NewClass};
use jineng_store::users;
use jineng_store::Db;
use std::collections::HashMap;
use tower::ServiceExt;

/// The county of the county user, and another one.
pub const MY_COUNTY: &str = "411722";
pub const OTHER_COUNTY: &str = "411729";

pub struct TestApp {
    pub db: Db,
    pub router: Router,
    /// The app's clock, stopped at today's date; tests move it (e.g. past a notice period).
    pub clock: jineng_web::Clock,
    /// Bearer token per role.
    pub tokens: HashMap<Role, String>,
    /// Session cookie and CSRF token per role.
    pub sessions: HashMap<Role, (String, String)>,
    /// A person in MY_COUNTY enrolled with the provider (the worker user's own record).
    pub my_person: i64,
    /// A person in OTHER_COUNTY, not enrolled with the provider.
    pub other_person: i64,
    pub provider_id: i64,
}

pub fn id_number(county: &str, seq: u16) -> String {
    IdNumber::from_parts(AreaCode::parse(county).unwrap(), "1988-02-29".parse().unwrap(), seq).as_str().to_owned()
}

pub async fn spawn_app(backend: &str) -> TestApp {
    let db = fresh(backend).await;
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let provider_id = orgs::create(
        &db,
        None,
        OrgKind::Provider,
        &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 77).to_string(),
            legacy: false,
            name: "上蔡县天中职业培训学校".into(),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap();
    let body_id = orgs::create(
        &db,
        None,
        OrgKind::AssessmentBody,
        &OrgInput {
            credit_code: body_code(),
            legacy: false,
            name: "上蔡县职业技能评价中心".into(),
            county_code: MY_COUNTY.into(),
            kind: None,
            insured: false,
            status: None,
        },
    )
    .await
    .unwrap();
    let employer_id = orgs::create(
        &db,
        None,
        OrgKind::Employer,
        &OrgInput {
            credit_code: CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 79).to_string(),
            legacy: false,
            name: "上蔡县天一食品有限公司".into(),
            county_code: MY_COUNTY.into(),
            kind: Some("enterprise".into()),
            insured: true,
            status: None,
        },
    )
    .await
    .unwrap();
    let new = |county: &str, seq| NewPerson {
        id_number: IdNumber::parse(&id_number(county, seq)).unwrap(),
        name: "李娜".into(),
        county_code: county.into(),
        phone: Some("13812345678".into()),
        rural: true,
        groups: vec![],
    };
    let my_person = people::create(&db, None, &new(MY_COUNTY, 11)).await.unwrap();
    let other_person = people::create(&db, None, &new(OTHER_COUNTY, 12)).await.unwrap();
    let class = training::create_class(
        &db,
        None,
        &NewClass {
            name: "上蔡县电工2020年3月期".into(),
            program_code: "P2a".into(),
            occupation_code: "6-31-01-03".into(),
            level: None,
            kind: TrainingKind::SkillUpgrade,
            county_code: MY_COUNTY.into(),
            provider_id,
            start_date: d("2020-03-02"),
            end_date: d("2020-03-20"),
            subsidised: true,
        },
    )
    .await
    .unwrap();
    let e = training::enrol(&db, None, class, my_person, d("2020-03-01")).await.unwrap();
    training::complete(&db, None, e, d("2020-03-20")).await.unwrap();

    let mut tokens = HashMap::new();
    let mut sessions = HashMap::new();
    for role in Role::ALL {
        let scope = match role {
            Role::County => Some(MY_COUNTY.to_owned()),
            Role::Department => Some("hrss".to_owned()),
            Role::Provider => Some(provider_id.to_string()),
            Role::AssessmentBody => Some(body_id.to_string()),
            Role::Worker => Some(my_person.to_string()),
            Role::Employer => Some(employer_id.to_string()),
            _ => None,
        };
        let uid = users::create(&db, None, role.code(), role.zh(), "correct horse battery", *role, scope.as_deref())
            .await
            .unwrap();
        tokens.insert(*role, users::create_api_token(&db, uid, "test").await.unwrap());
        sessions.insert(*role, users::create_session(&db, uid, 1).await.unwrap());
    }
    let clock = jineng_web::Clock::fixed(jineng_web::Clock::default().today());
    let mut state = jineng_web::AppState::new(db.clone());
    state.clock = clock.clone();
    let router = jineng_web::app(state);
    TestApp { db, router, clock, tokens, sessions, my_person, other_person, provider_id }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// An API call with the role's bearer token (None: anonymous).
    pub async fn api(&self, role: Option<Role>, method: Method, path: &str, body: Option<serde_json::Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(r) = role {
            b = b.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[&r]));
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    /// An API call with an `Idempotency-Key` header.
    pub async fn api_keyed(&self, role: Role, path: &str, key: &str, body: serde_json::Value) -> Resp {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[&role]))
            .header("idempotency-key", key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// A page request with the role's session cookie; forms get the CSRF token unless `csrf` is false.
    pub async fn page(
        &self,
        role: Option<Role>,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
        csrf: bool,
    ) -> Resp {
        let mut b = Request::builder().method(method.clone()).uri(path);
        let mut fields: Vec<(String, String)> = form.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(r) = role {
            let (cookie, token) = &self.sessions[&r];
            b = b.header(header::COOKIE, format!("jn_session={cookie}"));
            if csrf {
                fields.push(("csrf".into(), token.clone()));
            }
        }
        let req = if method == Method::GET {
            b.body(Body::empty())
        } else {
            b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(&fields).unwrap()))
        };
        self.send(req.unwrap()).await
    }

    /// Follows a redirect as a browser would: GET its location with the role's session and the
    /// cookies the redirect set (the confirmation it carries).
    pub async fn follow(&self, role: Option<Role>, r: &Resp) -> Resp {
        assert!(r.status.is_redirection(), "not a redirect: {} {}", r.status, r.body);
        let location = r.headers[header::LOCATION].to_str().unwrap();
        let mut cookies: Vec<String> = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .collect();
        if let Some(r) = role {
            cookies.push(format!("jn_session={}", self.sessions[&r].0));
        }
        let req = Request::builder().uri(location).header(header::COOKIE, cookies.join("; ")).body(Body::empty());
        self.send(req.unwrap()).await
    }

    pub async fn people_count(&self) -> i64 {
        people::count(&self.db, &Default::default()).await.unwrap().unwrap_or_default()
    }
}

/// A catalog project for 家政服务员 level 5 (created by the city admin).
pub async fn catalog_project(app: &TestApp) -> i64 {
    let r = app
        .api(Some(Role::CityAdmin), Method::POST, "/api/v1/catalog/projects", Some(serde_json::json!({"occupation_code": "4-10-01-06", "level": 5, "class_hours": 80, "subsidy_fen": 100000})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

/// The credit code of the test app's assessment body (the one classes name).
pub fn body_code() -> String {
    CreditCode::generate(AreaCode::parse(MY_COUNTY).unwrap(), 78).to_string()
}

/// A class application body for P4a in MY_COUNTY.
pub fn application(project: i64, roster: serde_json::Value, start: &str, end: &str) -> serde_json::Value {
    serde_json::json!({"name": "上蔡县家政服务员2021年5月期", "program_code": "P4a", "occupation_code": "4-10-01-06", "level": 5, "kind": "employment",
        "county_code": MY_COUNTY, "start_date": start, "end_date": end, "subsidised": true, "subsidy_project_id": project,
        "venue": "上蔡县职教中心302室", "timetable": "周一至周五 8:30-16:30", "teachers": "王老师、刘老师", "capacity": 60,
        "assessment_plan": "结业考核由评价机构组织", "roster": roster, "assessment_body_credit_code": body_code()})
}

/// A class the provider applied for (May 2021) with the given roster; approved if asked.
pub async fn applied_class(app: &TestApp, roster: serde_json::Value, approve: bool) -> i64 {
    let p = catalog_project(app).await;
    let r = app
        .api(
            Some(Role::Provider),
            Method::POST,
            "/api/v1/classes",
            Some(application(p, roster, "2021-05-10", "2021-05-14")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    if approve {
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                &format!("/api/v1/classes/{id}/actions"),
                Some(serde_json::json!({"action": "approve"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    id
}

/// An approved class of the worker (李娜, MY_COUNTY 11) that the test body assessed: she passed
/// on 2021-05-15 with certificate C-1. Returns the class.
pub async fn certified_class(app: &TestApp) -> i64 {
    let id = id_number(MY_COUNTY, 11);
    let class = applied_class(app, serde_json::json!([{"id_number": id, "name": "李娜"}]), true).await;
    let r = app
        .api(
            Some(Role::AssessmentBody),
            Method::POST,
            &format!("/api/v1/classes/{class}/assessments"),
            Some(serde_json::json!({"id_number": id, "assessed_on": "2021-05-15", "score": 90, "passed": true, "kind": "skill_level", "serial": "C-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    class
}
