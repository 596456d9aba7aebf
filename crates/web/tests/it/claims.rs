//! Claims prepared when a certificate is issued, decided by the policy engine, on both backends.

use crate::common;

use crate::common::spawn_app;
use axum::http::Method;
use jineng_domain::Role;
use jineng_store::testing::both_backends;
use serde_json::json;

both_backends! {
    async fn a_certificate_from_a_subsidised_class_brings_a_decided_claim_once(backend: &'static str) {
        let app = spawn_app(backend).await;
        common::certified_class(&app).await;
        let claims = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(claims.as_array().unwrap().len(), 1, "{backend}");
        let c = &claims[0];
        assert_eq!(
            (c["kind"].as_str(), c["outcome"].as_str(), c["amount_fen"].as_i64()),
            (Some("training_subsidy"), Some("approved"), Some(100_000))
        );
        let decision: serde_json::Value = serde_json::from_str(c["decision"].as_str().unwrap()).unwrap();
        assert!(decision["clauses"].as_array().unwrap().contains(&json!("S12")));
        assert!(decision["parameters"][0]["source"].is_string());
        // The snapshot it was decided from is kept and is itself a valid case.
        let snapshot = jineng_store::claims::snapshot(&app.db, c["claim_id"].as_i64().unwrap()).await.unwrap();
        assert!(jineng_policy::parse(&snapshot).is_ok());
        // The worker sees their own claim; preparing it again (twice at once) files nothing new.
        let mine = app.api(Some(Role::Worker), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(mine.as_array().unwrap().len(), 1);
        let person =
            app.api(Some(Role::Worker), Method::GET, &format!("/api/v1/people/{}", app.my_person), None).await.json();
        let cert = person["certificates"][0]["certificate_id"].as_i64().unwrap();
        let certs = [(app.my_person, cert)];
        let (a, b) = tokio::join!(
            jineng_store::claims::prepare::for_certificates(&app.db, None, &certs),
            jineng_store::claims::prepare::for_certificates(&app.db, None, &certs)
        );
        assert_eq!(a.unwrap(), b.unwrap());
        let all = app.api(Some(Role::CityAdmin), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(all.as_array().unwrap().len(), 1, "{backend}: one claim however often it is filed");
        // A provider sees only its own (project) claims: none here.
        let theirs = app.api(Some(Role::Provider), Method::GET, "/api/v1/claims", None).await.json();
        assert_eq!(theirs.as_array().unwrap().len(), 0, "{backend}");
        let page = app.page(Some(Role::County), Method::GET, "/claims", &[], false).await;
        assert!(page.body.contains("职业培训补贴") && page.body.contains("¥1,000.00"));
    }
}
