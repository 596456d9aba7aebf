//! Roster import from real .xlsx files, on both backends.

use crate::common;

use crate::common::{id_number, spawn_app, TestApp, MY_COUNTY, OTHER_COUNTY};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use calamine::Reader;
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

enum Cell<'a> {
    Text(&'a str),
    Number(f64),
}

fn workbook(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in jineng_store::roster::HEADERS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) => ws.write_string(r as u32 + 1, c as u16, *t).unwrap(),
                Cell::Number(n) => ws.write_number(r as u32 + 1, c as u16, *n).unwrap(),
            };
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn submitted_class(app: &TestApp) -> i64 {
    common::applied_class(app, json!([{"id_number": id_number(OTHER_COUNTY, 12), "name": "李娜"}]), false).await
}

async fn upload(app: &TestApp, class: i64, bytes: Vec<u8>) -> common::Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/classes/{class}/roster"))
        .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::Provider]))
        .header(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

both_backends! {
    async fn a_clean_roster_lands_whole_registering_new_people(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = submitted_class(&app).await;
        let before = app.people_count().await;
        let new_id = id_number(MY_COUNTY, 777);
        let file = workbook(&[
            vec![Cell::Text(&id_number(MY_COUNTY, 11)), Cell::Text("李娜")],
            vec![
                Cell::Text(&new_id),
                Cell::Text("周新"),
                Cell::Text("poor_worker, rural_migrant"),
                Cell::Text("2020-01-01"),
            ],
        ]);
        let r = upload(&app, class, file).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!((r.json()["enrolled"].as_i64(), r.json()["registered"].as_i64()), (Some(2), Some(1)));
        assert_eq!(app.people_count().await, before + 1);
        let c = app.api(Some(Role::Provider), Method::GET, &format!("/api/v1/classes/{class}"), None).await.json();
        assert_eq!(c["enrolled"], 3);
        let found =
            app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/people?q={new_id}"), None).await.json();
        let pid = found["items"][0]["person_id"].as_i64().unwrap();
        let groups = app.api(Some(Role::CityAdmin), Method::GET, &format!("/api/v1/people/{pid}"), None).await.json()
            ["groups"]
            .clone();
        assert_eq!(groups.as_array().unwrap().len(), 2);
    }
}

both_backends! {
    async fn a_wrong_roster_lands_nothing_and_its_report_names_row_column_and_reason(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = submitted_class(&app).await;
        let before = app.people_count().await;
        let mut bad = id_number(MY_COUNTY, 778);
        let last = bad.pop().unwrap();
        bad.push(if last == '1' { '2' } else { '1' });
        let file = workbook(&[
            vec![Cell::Text(&id_number(MY_COUNTY, 779)), Cell::Text("吴好")],
            vec![Cell::Text(&bad), Cell::Text("郑坏")],
            vec![
                Cell::Text(&id_number(MY_COUNTY, 780)),
                Cell::Text("王某"),
                Cell::Text("alien"),
                Cell::Text("2020-01-01"),
            ],
            vec![Cell::Text(&id_number(MY_COUNTY, 779)), Cell::Text("吴好")],
            vec![Cell::Text(&id_number(MY_COUNTY, 11)), Cell::Text("李四")],
            vec![Cell::Number(411722198802290012.0), Cell::Text("数字")],
        ]);
        let r = upload(&app, class, file).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        let j = r.json();
        let errors = j["errors"].as_array().unwrap();
        let at = |row: u64| {
            errors
                .iter()
                .filter(|e| e["row"] == row)
                .map(|e| format!("{} {}", e["column"].as_str().unwrap(), e["reason"].as_str().unwrap()))
                .collect::<Vec<_>>()
                .join(" | ")
        };
        assert!(at(2).is_empty(), "row 2 is right: {}", at(2));
        assert!(at(3).contains("A 身份证号") && at(3).contains("校验码错误"), "{}", at(3));
        assert!(at(4).contains("C 人员类别") && at(4).contains("alien"));
        assert!(at(5).contains("第2行重复"));
        assert!(at(6).contains("B 姓名") && at(6).contains("不符"));
        assert!(at(7).contains("文本格式"));
        assert_eq!(app.people_count().await, before, "nothing registered");
        let c = app.api(Some(Role::Provider), Method::GET, &format!("/api/v1/classes/{class}"), None).await.json();
        assert_eq!(c["enrolled"], 1, "nothing enrolled");
        // The report is a real .xlsx with the same rows.
        let report = j["report"].as_str().unwrap();
        let req = Request::builder()
            .uri(report)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::County]))
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::OK, "{report}");
        assert!(res.headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
        // `Resp` keeps text; fetch the bytes again for the workbook.
        let req = Request::builder()
            .uri(report)
            .header(header::AUTHORIZATION, format!("Bearer {}", app.tokens[&Role::County]))
            .body(Body::empty())
            .unwrap();
        let bytes = {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            app.router.clone().oneshot(req).await.unwrap().into_body().collect().await.unwrap().to_bytes()
        };
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        let text: Vec<String> =
            range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("\t")).collect();
        assert_eq!(text.len(), errors.len() + 1);
        assert!(text.iter().any(|l| l.starts_with("3\tA 身份证号\t") && l.contains("校验码错误")), "{text:?}");
    }
}

both_backends! {
    async fn the_template_downloads_and_an_approved_class_takes_no_roster(backend: &'static str) {
        let app = spawn_app(backend).await;
        let req = Request::builder()
            .uri("/roster-template.xlsx")
            .header(header::COOKIE, format!("jn_session={}", app.sessions[&Role::Provider].0))
            .body(Body::empty())
            .unwrap();
        let bytes = {
            use http_body_util::BodyExt;
            use tower::ServiceExt;
            app.router.clone().oneshot(req).await.unwrap().into_body().collect().await.unwrap().to_bytes()
        };
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(wb.sheet_names(), vec!["花名册".to_owned(), "人员类别代码".to_owned()], "{backend}");
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((0, 0)).unwrap().to_string(), "身份证号 ID number");
        let class = submitted_class(&app).await;
        app.api(
            Some(Role::County),
            Method::POST,
            &format!("/api/v1/classes/{class}/actions"),
            Some(json!({"action": "approve"})),
        )
        .await;
        let r = upload(&app, class, workbook(&[vec![Cell::Text(&id_number(MY_COUNTY, 11)), Cell::Text("李娜")]])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("花名册不能再导入"));
        let r = upload(&app, class, b"not a workbook".to_vec()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(".xlsx"));
    }
}

both_backends! {
    async fn the_upload_form_on_the_class_page_imports_a_file(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = submitted_class(&app).await;
        let (cookie, csrf) = app.sessions[&Role::Provider].clone();
        let file = workbook(&[vec![Cell::Text(&id_number(MY_COUNTY, 11)), Cell::Text("李娜")]]);
        let boundary = "----jinengboundary";
        let mut body = Vec::new();
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
        );
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"roster.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend(&file);
        body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/classes/{class}/roster"))
            .header(header::COOKIE, format!("jn_session={cookie}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        // The class page it leads to says what was done, once.
        let shown = app.follow(Some(Role::Provider), &r).await;
        assert!(shown.body.contains(r#"id="flash""#) && shown.body.contains("已导入 1 行"), "{backend}: {}", shown.body);
        let cleared = shown.headers.get_all(header::SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("jn_flash=;"));
        assert!(cleared, "{backend}: the confirmation is cleared once shown");
        let c = app.api(Some(Role::Provider), Method::GET, &format!("/api/v1/classes/{class}"), None).await.json();
        assert_eq!(c["enrolled"], 2);
        let page = app.page(Some(Role::Provider), Method::GET, &format!("/classes/{class}"), &[], false).await;
        assert!(page.body.contains("roster-upload") && page.body.contains("/roster-template.xlsx"));
        assert!(!page.body.contains(r#"id="flash""#), "{backend}: no confirmation without an action");
    }
}

both_backends! {
    async fn a_hostile_workbook_is_refused_or_read_within_bounds(backend: &'static str) {
        let app = spawn_app(backend).await;
        let class = submitted_class(&app).await;
        // A cell in the sheet's far corner: its range spans the whole sheet (a reader that builds
        // a grid of the range would need hundreds of gigabytes). The roster's own columns are read.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (c, h) in jineng_store::roster::HEADERS.iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        ws.write_string(1, 0, id_number(MY_COUNTY, 201)).unwrap();
        ws.write_string(1, 1, "赵一").unwrap();
        ws.write_string(1_048_575, 16_383, "far away").unwrap();
        let r = upload(&app, class, wb.save_to_buffer().unwrap()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.body);
        assert_eq!(r.json()["enrolled"], 1);
        // A row beyond the limit in the roster's columns is refused as a whole, naming the limit.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, jineng_store::roster::HEADERS[0]).unwrap();
        ws.write_string(1_000_000, 0, id_number(MY_COUNTY, 202)).unwrap();
        let r = upload(&app, class, wb.save_to_buffer().unwrap()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}: {}", r.body);
        assert!(r.body.contains("200000"), "{}", r.body);
        // 1,500 wrong rows: the first 1,000 errors are listed, the rest counted in one line.
        let bad: Vec<Vec<Cell<'_>>> = (0..1500).map(|_| vec![Cell::Text("12345"), Cell::Text("钱二")]).collect();
        let r = upload(&app, class, workbook(&bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        let errors = r.json()["errors"].as_array().unwrap().len();
        assert_eq!(errors, 1001, "{backend}");
        assert!(r.body.contains("另有 500 处错误未列出"), "{backend}");
        // An overlong cell is named, not stored.
        let long = "张".repeat(5000);
        let r = upload(&app, class, workbook(&[vec![Cell::Text(&id_number(MY_COUNTY, 203)), Cell::Text(&long)]])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("过长") && !r.body.contains(&long), "{backend}");
        // Someone else's class: refused before the file is read.
        let other = app.api(Some(Role::County), Method::GET, "/api/v1/classes", None).await;
        assert_eq!(other.status, StatusCode::OK);
        let r = upload(&app, 987_654, b"not even a zip".to_vec()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend}: {}", r.body);
    }
}
