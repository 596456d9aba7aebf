//! .xlsx exports on both backends.

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use calamine::Reader;
use http_body_util::BodyExt;
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use tower::ServiceExt;

async fn download(app: &TestApp, role: Role, path: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&role]))
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    (status, res.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn sheets(bytes: Vec<u8>) -> Vec<(String, Vec<String>)> {
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    wb.worksheets()
        .into_iter()
        .map(|(name, range)| {
            (name, range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("\t")).collect())
        })
        .collect()
}

both_backends! {
    async fn a_worker_exports_their_own_record_and_no_one_else_s(backend: &'static str) {
        let app = spawn_app(backend).await;
        let (status, bytes) = download(&app, Role::Worker, &format!("/people/{}/record.xlsx", app.my_person)).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let s = sheets(bytes);
        let names: Vec<&str> = s.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["基本信息", "培训记录", "证书", "人员类别", "补贴"]);
        let full = id_number(MY_COUNTY, 11);
        assert!(
            s[0].1.iter().any(|l| l.contains("**********")) && !s[0].1.iter().any(|l| l.contains(&full)),
            "ID masked"
        );
        assert_eq!(s[1].1.len(), 2, "header and the one training");
        assert!(s[1].1[1].contains("2020-03-20"), "{:?}", s[1].1);
        let (status, _) = download(&app, Role::Worker, &format!("/people/{}/record.xlsx", app.other_person)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn the_class_list_exports_within_the_caller_s_scope(backend: &'static str) {
        let app = spawn_app(backend).await;
        let (status, bytes) = download(&app, Role::Provider, "/classes.xlsx").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let s = sheets(bytes);
        assert_eq!(s[0].1.len(), 2, "header and the provider's one class");
        assert!(s[0].1[1].contains("上蔡县电工2020年3月期") && s[0].1[1].contains("已批准"));
    }
}
