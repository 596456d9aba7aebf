//! Pages: sign-in, CSRF, escaping and forms, on both backends.

use crate::common;

use crate::common::{id_number, spawn_app, MY_COUNTY};
use axum::http::{Method, StatusCode};
use jineng_domain::Role;
use jineng_store::testing::both_backends;

both_backends! {
    async fn signing_in_sets_an_httponly_samesite_cookie_and_a_wrong_password_does_not(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app
            .page(
                None,
                Method::POST,
                "/login",
                &[("username", "city_admin"), ("password", "correct horse battery"), ("next", "/programs/P1")],
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}");
        let cookie = r.headers["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        assert_eq!(r.headers["location"], "/programs/P1");
        let r = app
            .page(
                None,
                Method::POST,
                "/login",
                &[("username", "city_admin"), ("password", "nope"), ("next", "//evil.example")],
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("用户名或密码错误"));
        assert!(r.headers.get("set-cookie").is_none());
    }
}

both_backends! {
    async fn a_form_without_the_csrf_token_changes_nothing(backend: &'static str) {
        let app = spawn_app(backend).await;
        let before = app.people_count().await;
        let form =
            [("id_number", id_number(MY_COUNTY, 400)), ("name", "孙八".into()), ("county_code", MY_COUNTY.into())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/people", &form, false).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        assert_eq!(app.people_count().await, before);
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/people", &form, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        assert_eq!(app.people_count().await, before + 1);
    }
}

both_backends! {
    async fn the_person_form_names_the_wrong_field_and_escapes_what_was_typed(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app
            .page(
                Some(Role::CityAdmin),
                Method::POST,
                "/people",
                &[
                    ("id_number", "41172219880229001"),
                    ("name", "<script>alert(1)</script>"),
                    ("county_code", MY_COUNTY),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("身份证号应为18位"), "{}", r.body);
        assert!(!r.body.contains("<script>alert(1)</script>"));
        assert!(r.body.contains("&lt;script&gt;"));
    }
}

both_backends! {
    async fn the_home_page_shows_targets_pending_markers_and_done(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app.page(Some(Role::CityAdmin), Method::GET, "/", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert!(r.body.contains("250,000"));
        assert!(r.body.contains("待定 pending"));
        assert!(
            r.body.contains("请市工业和信息化局提出意见") || r.body.contains("工业和信息化"),
            "asked department named"
        );
        assert!(r.body.contains("/static/chart.js"));
        // The admin sets P1's target from the page; the change is listed with who.
        let r = app
            .page(
                Some(Role::CityAdmin),
                Method::POST,
                "/programs/P1/target",
                &[("target", "30,000"), ("reason", "工信局意见")],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = app.page(Some(Role::CityAdmin), Method::GET, "/programs/P1", &[], false).await;
        assert!(r.body.contains("30,000") && r.body.contains("工信局意见") && r.body.contains("city_admin"));
        // A worker's home is their own queue, linking to their record.
        let r = app.page(Some(Role::Worker), Method::GET, "/", &[], false).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}");
        assert!(r.body.contains(&format!("href=\"/people/{}\"", app.my_person)), "{}", r.body);
    }
}

both_backends! {
    async fn organisations_are_created_and_edited_through_pages_with_field_errors(backend: &'static str) {
        let app = spawn_app(backend).await;
        let admin = Some(Role::CityAdmin);
        let code =
            jineng_domain::CreditCode::generate(jineng_domain::AreaCode::parse(MY_COUNTY).unwrap(), 4242).to_string();
        let mut bad = code.clone();
        bad.replace_range(17..18, if code.ends_with('0') { "1" } else { "0" });
        let form = |cc: &str| {
            vec![
                ("credit_code", cc.to_owned()),
                ("name", "上蔡县金桥家政服务有限公司".to_owned()),
                ("county_code", MY_COUNTY.to_owned()),
                ("kind", "enterprise".to_owned()),
                ("insured", "1".to_owned()),
            ]
        };
        let as_refs = |f: &Vec<(&'static str, String)>| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
        let f = as_refs(&form(&bad));
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.page(admin, Method::POST, "/orgs/employers", &f, true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend}");
        assert!(r.body.contains("校验码错误"), "the credit code field says why");
        let f = as_refs(&form(&code));
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.page(admin, Method::POST, "/orgs/employers", &f, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", r.body);
        let location = r.headers["location"].to_str().unwrap().to_owned();
        let page = app.page(admin, Method::GET, &location, &[], false).await;
        assert!(page.body.contains("上蔡县金桥家政服务有限公司") && page.body.contains("企业"));
        // Rename it; the history lists both changes.
        let mut f2: Vec<(&str, &str)> = f.clone();
        f2[1] = ("name", "上蔡县金桥家政服务股份有限公司");
        let r = app.page(admin, Method::POST, &location, &f2, true).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.page(admin, Method::GET, &location, &[], false).await;
        assert!(page.body.contains("股份有限公司"));
        assert_eq!(page.body.matches("<td>update</td>").count() + page.body.matches("<td>create</td>").count(), 2);
        // A county office cannot add a provider (the city catalogs them).
        let r = app.page(Some(Role::County), Method::GET, "/orgs/providers/new", &[], false).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn the_auditor_reads_every_change_in_the_audit_log(backend: &'static str) {
        let app = spawn_app(backend).await;
        let r = app
            .page(
                Some(Role::CityAdmin),
                Method::POST,
                "/programs/P1/target",
                &[("target", "30000"), ("reason", "工信局意见")],
                true,
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let page = app.page(Some(Role::Auditor), Method::GET, "/audit?entity=program", &[], false).await;
        assert_eq!(page.status, StatusCode::OK, "{backend}");
        assert!(page.body.contains("set_target") && page.body.contains("工信局意见"));
        assert!(!page.body.contains("training_class #"), "filtered to programs");
        assert_eq!(app.page(Some(Role::County), Method::GET, "/audit", &[], false).await.status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn the_audit_log_reads_in_words_china_time_and_pages(backend: &'static str) {
        let app = spawn_app(backend).await;
        // A change by a named user: the county office registers a person.
        let r = app
            .api(
                Some(Role::County),
                Method::POST,
                "/api/v1/people",
                Some(serde_json::json!({"id_number": common::id_number(MY_COUNTY, 301), "name": "周七", "county_code": MY_COUNTY})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let page = app.page(Some(Role::Auditor), Method::GET, "/audit?entity=person", &[], false).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(Role::County.zh()), "{backend}: the user by name");
        assert!(page.body.contains("新增") && page.body.contains("劳动者"), "{backend}: action and entity in words");
        assert!(!page.body.contains("{&#x22;") && !page.body.contains("{\""), "{backend}: no raw JSON");
        let now_china = (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string();
        assert!(page.body.contains(&now_china), "{backend}: China time");
        // A day filter: tomorrow has nothing yet.
        let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(32)).format("%Y-%m-%d").to_string();
        let none = app.page(Some(Role::Auditor), Method::GET, &format!("/audit?from={tomorrow}"), &[], false).await;
        assert!(none.body.contains("没有符合条件的记录"), "{backend}");
        let today = app.page(Some(Role::Auditor), Method::GET, &format!("/audit?from={now_china}&to={now_china}"), &[], false).await;
        assert!(today.body.contains("新增"), "{backend}: today's changes are within today");
        // 100 a page, with a link to the older ones.
        for i in 0..105 {
            jineng_store::audit::log(&app.db, None, "update", "plan", &i.to_string(), &serde_json::json!({"n": i})).await.unwrap();
        }
        let first = app.page(Some(Role::Auditor), Method::GET, "/audit", &[], false).await;
        assert!(first.body.contains("page=2"), "{backend}: a next page");
        assert_eq!(first.body.matches("<tr><td>").count(), 100, "{backend}");
    }
}

/// The menu of a page: its groups' names and the entries marked as the page one is on.
fn menu(html: &str) -> (Vec<String>, Vec<String>) {
    let nav = &html[html.find("<nav class=\"main\"").expect("a menu")..];
    let nav = &nav[..nav.find("</nav>").unwrap()];
    let groups = nav
        .split("<span class=\"nav-label\"")
        .skip(1)
        .map(|g| g[g.find('>').unwrap() + 1..g.find("</span>").unwrap()].to_owned())
        .collect();
    let current = nav
        .split("<a ")
        .skip(1)
        .filter(|a| a[..a.find('>').unwrap()].contains(r#"aria-current="page""#))
        .map(|a| a[a.find('>').unwrap() + 1..a.find("</a>").unwrap()].to_owned())
        .collect();
    (groups, current)
}

both_backends! {
    async fn the_menu_is_grouped_and_marks_the_page_one_is_on(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let claim = claims[0]["claim_id"].as_i64().unwrap();
        let admin = app.page(Some(Role::CityAdmin), Method::GET, "/", &[], false).await.body;
        let (groups, current) = menu(&admin);
        assert_eq!(groups, ["计划", "培训", "补贴", "监督", "公开"], "{backend}");
        assert_eq!(current, ["计划进度"], "{backend}: home");
        // A page under an entry marks that entry, and only the longest that fits.
        for (role, path, marked) in [
            (Role::County, format!("/claims/{claim}"), "补贴申请"),
            (Role::County, "/claims".to_owned(), "补贴申请"),
            (Role::Employer, "/claims/new".to_owned(), "申请补贴"),
            (Role::CityAdmin, "/policy/parameters".to_owned(), "政策参数"),
            (Role::Provider, "/classes/new".to_owned(), "开班申请"),
        ] {
            let r = app.page(Some(role), Method::GET, &path, &[], false).await;
            assert_eq!(r.status, StatusCode::OK, "{backend}: {path}");
            assert_eq!(menu(&r.body).1, [marked], "{backend}: {role:?} on {path}");
        }
        // A program's page is a drill-down of the plan: the plan's entry, where the menu has one.
        let r = app.page(Some(Role::CityAdmin), Method::GET, "/programs/P1", &[], false).await;
        assert_eq!(menu(&r.body).1, ["计划进度"], "{backend}");
        let r = app.page(Some(Role::Finance), Method::GET, "/programs/P1", &[], false).await;
        assert_eq!(menu(&r.body).1, ["计划进度"], "{backend}: finance's /plan");
        // A county's home is its work queue, not the plan: nothing is marked there.
        let r = app.page(Some(Role::County), Method::GET, "/programs/P1", &[], false).await;
        assert!(menu(&r.body).1.is_empty(), "{backend}");
        // Approve, reject and approve-and-publish-all look different: primary, danger, bulk.
        let page = app.page(Some(Role::County), Method::GET, &format!("/claims/{claim}"), &[], false).await.body;
        assert!(page.contains(r#"<button name="action" value="approve" id="approve">"#), "{backend}: approve is the primary button");
        assert!(page.contains(r#"id="reject" class="danger""#), "{backend}");
        let list = app.page(Some(Role::County), Method::GET, "/claims", &[], false).await.body;
        assert!(list.contains(r#"id="publish-all" class="bulk""#), "{backend}");
        let css = app.page(None, Method::GET, "/static/app.css", &[], false).await.body;
        let rule = |sel: &str| css.lines().find(|l| l.starts_with(sel)).unwrap_or_else(|| panic!("{sel} in app.css")).to_owned();
        let (danger, bulk) = (rule("button.danger"), rule("button.bulk,"));
        assert!(danger.contains("background:#fff") && bulk.contains("background:#b91c1c"), "{danger} / {bulk}");
        assert!(css.contains("--primary:#1d4ed8") && css.contains(r#"nav.main a[aria-current="page"]"#));
    }
}

both_backends! {
    async fn every_action_is_confirmed_on_the_page_it_leads_to(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let claims = app.api(Some(Role::County), Method::GET, "/api/v1/claims", None).await.json();
        let claim = claims[0]["claim_id"].as_i64().unwrap();
        let flash = |r: &common::Resp| {
            let at = r.body.find(r#"id="flash""#).unwrap_or_else(|| panic!("{backend}: no confirmation: {}", r.body));
            r.body[at..at + r.body[at..].find("</div>").unwrap()].to_owned()
        };
        // Approve and publish all: how many.
        let r = app.page(Some(Role::County), Method::POST, "/claims/publish-all", &[], true).await;
        let said = flash(&app.follow(Some(Role::County), &r).await);
        assert!(said.contains("已审核通过并公示 1 项申请"), "{backend}: {said}");
        // Anyone objecting on the public notice is told it was received (no session).
        let form = [("filer_name", "张某"), ("contact", "13900000000"), ("reason", "证书系代考")];
        let r = app.page(None, Method::POST, &format!("/notice/{claim}/objections"), &form, false).await;
        let shown = app.follow(None, &r).await;
        assert_eq!(shown.status, StatusCode::OK, "{backend}");
        assert!(flash(&shown).contains("异议已收到"), "{backend}");
        // The county rejects: the claim's page says so and what it is now, in Chinese first.
        let r = app.page(Some(Role::County), Method::POST, &format!("/claims/{claim}/actions"), &[("action", "reject"), ("reason", "证书系代考")], true).await;
        let said = flash(&app.follow(Some(Role::County), &r).await);
        assert!(said.contains("已不予补贴") && said.contains("rejected"), "{backend}: {said}");
        assert!(said.find("已不予补贴") < said.find("rejected"), "{backend}: Chinese first");
        // The city schedules a parameter value.
        let form = [("key", "pre_job_subsidy_fen"), ("from", "2099-03-01"), ("value", "600"), ("source", "市人社局通知")];
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/policy/parameters", &form, true).await;
        assert!(flash(&app.follow(Some(Role::CityAdmin), &r).await).contains("自 2099-03-01 起生效"), "{backend}");
        // A refused form confirms nothing.
        let r = app.page(Some(Role::CityAdmin), Method::POST, "/policy/parameters", &[("key", "pre_job_subsidy_fen"), ("from", "2099-04-01"), ("value", "x"), ("source", "s")], true).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!r.body.contains(r#"id="flash""#), "{backend}");
    }
}
