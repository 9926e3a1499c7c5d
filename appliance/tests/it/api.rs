//! The JSON API as a script or an app would use it: the OpenAPI document, bearer and cookie
//! authentication, clear 4xx refusals, and garbage sent to every documented operation.

use crate::common::{self, TestServer, api};
use preau_appliance::school::demo::DEMO_PASSWORD;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login(server: &TestServer, login: &str, password: &str) -> (StatusCode, Value) {
    api(server, "POST", "/api/v1/auth/login", None, Some(json!({"login": login, "password": password}))).await
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let server = TestServer::demo().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", server.base)).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/auth/login",
        "/api/v1/auth/pictures",
        "/api/v1/auth/qr",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/school",
        "/api/v1/setup",
        "/api/v1/team",
        "/api/v1/accounts",
        "/api/v1/accounts/{id}/reset",
        "/api/v1/accounts/{id}/qr",
        "/api/v1/accounts/{id}/letter",
        "/api/v1/classes/{id}/login",
        "/api/v1/classes/{id}/roster",
        "/api/v1/classes/{id}/letters/{who}",
        "/api/v1/imports/onde",
        "/api/v1/imports/onde/{token}/apply",
    ] {
        assert!(paths.contains_key(expected), "{expected} is not documented: {:?}", paths.keys().collect::<Vec<_>>());
    }
    assert!(paths.keys().all(|p| p.starts_with("/api/v1/")));
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // Every reference resolves (a client generator or a fuzzer refuses the document else).
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
    }
    // Every operation documents every refusal, with the error body.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            for status in ["400", "401", "403", "404", "413", "429"] {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path}: {status}");
            }
        }
    }
}

#[tokio::test]
async fn a_bearer_token_acts_with_the_same_rights_as_the_pages() {
    let server = TestServer::demo().await;
    let (status, body) = login(&server, "sophie.lebihan", "faux").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "login-failed");
    assert!(body["message"].as_str().unwrap().contains("incorrect"));

    let (status, body) = login(&server, "sophie.lebihan", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap().to_owned();
    let (_, me) = api(&server, "GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(me["profile"], "teacher");
    let class = me["classes"][0]["id"].as_str().unwrap().to_owned();
    let (_, roster) = api(&server, "GET", &format!("/api/v1/classes/{class}/roster"), Some(&token), None).await;
    let pupil = roster["pupils"][0]["id"].as_str().unwrap().to_owned();
    let before =
        server.directory().credentials[&preau_appliance::school::directory::UserId::parse(&pupil).unwrap()].clone();
    let (_, letter) = api(&server, "POST", &format!("/api/v1/accounts/{pupil}/reset"), Some(&token), None).await;
    assert_ne!(letter["activation_code"].as_str().unwrap(), before.activation_code);
    assert_eq!(letter["pictures"].as_array().unwrap().len(), 3);
    assert!(letter["qr_url"].as_str().unwrap().contains("/qr/"));

    // Logged out, the token is worthless.
    assert_eq!(api(&server, "POST", "/api/v1/auth/logout", Some(&token), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api(&server, "GET", "/api/v1/me", Some(&token), None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_browser_session_works_in_the_api_only_with_the_csrf_header_for_changes() {
    let server = TestServer::demo().await;
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    // Reuse the browser's cookie by logging in the same way through the form.
    let page = client.get(format!("{}/login", server.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_in(&page).unwrap();
    let r = client
        .post(format!("{}/login", server.base))
        .form(&[("login", "claire.martin"), ("password", DEMO_PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let me = client.get(format!("{}/api/v1/me", server.base)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "reads need no token");
    let token: Value =
        client.get(format!("{}/api/v1/auth/csrf", server.base)).send().await.unwrap().json().await.unwrap();
    let csrf = token["csrf"].as_str().unwrap();
    let teacher = server.member("sophie.lebihan");
    let url = format!("{}/api/v1/accounts/{}/reset", server.base, teacher.id);
    let refused = client.post(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "error-csrf");
    let accepted = client
        .post(&url)
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"reason": "ordinateur volé"}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_activation_code_session_may_only_change_its_password() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let parent = dir
        .people
        .values()
        .find(|m| {
            m.profile == preau_appliance::school::directory::Profile::Parent
                && !dir.credentials[&m.id].activation_code.is_empty()
        })
        .unwrap();
    let cred = dir.credentials[&parent.id].clone();
    let (status, body) = login(&server, &cred.login, &cred.activation_code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["must_change_password"], true);
    let token = body["token"].as_str().unwrap();
    assert_eq!(api(&server, "GET", "/api/v1/me", Some(token), None).await.0, StatusCode::FORBIDDEN);
    let weak = json!({"new": "court", "confirm": "court"});
    let (status, body) = api(&server, "PUT", "/api/v1/me/password", Some(token), Some(weak)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "password-too-short");
    let good = json!({"new": "un-bon-mot-de-passe", "confirm": "un-bon-mot-de-passe"});
    assert_eq!(api(&server, "PUT", "/api/v1/me/password", Some(token), Some(good)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api(&server, "GET", "/api/v1/me", Some(token), None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn setup_and_import_through_the_api() {
    let server = TestServer::fresh().await;
    let (status, body) = api(&server, "GET", "/api/v1/me", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "setup-required");
    let (status, body) = api(&server, "POST", "/api/v1/setup", None, Some(json!({"uai": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["details"].as_array().unwrap().len() >= 2, "every problem is listed: {body}");
    let setup = json!({"uai": "0351234A", "name": "École des Lilas", "commune": "Plouër", "first_name": "Anne",
        "last_name": "Riou", "password": "cartable-vert-2026", "confirm": "cartable-vert-2026"});
    let (status, body) = api(&server, "POST", "/api/v1/setup", None, Some(setup.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(api(&server, "POST", "/api/v1/setup", None, Some(setup)).await.0, StatusCode::FORBIDDEN);

    let client = reqwest::Client::new();
    let csv = "Nom;Prénom;Date de naissance;Sexe;Classe;Niveau\nDUPONT;Jean;01/02/2019;M;CP;CP\nMARTIN;Léa;2019-03-04;F;CP;CP\n";
    let form = reqwest::multipart::Form::new()
        .text("year", "2026-2027")
        .part("files", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("liste.csv"));
    let preview: Value = client
        .post(format!("{}/api/v1/imports/onde", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(preview["created"].as_array().unwrap().len(), 3, "a class and two pupils: {preview}");
    let import_token = preview["token"].as_str().unwrap();
    let apply = format!("/api/v1/imports/onde/{import_token}/apply");
    assert_eq!(api(&server, "POST", &apply, Some(&token), None).await.0, StatusCode::OK);
    assert_eq!(server.directory().people.len(), 3);
    assert_eq!(api(&server, "POST", &apply, Some(&token), None).await.0, StatusCode::BAD_REQUEST, "applied once");

    let broken = "Nom;Prénom;Date de naissance;Sexe\nDUPONT;Jean;31/02/2019;M\n";
    let form = reqwest::multipart::Form::new()
        .part("files", reqwest::multipart::Part::bytes(broken.as_bytes().to_vec()).file_name("liste.csv"));
    let refused = client
        .post(format!("{}/api/v1/imports/onde", server.base))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["details"][0]["line"], 2);
    assert_eq!(body["details"][0]["file"], "liste.csv");
}

/// Garbage to every documented operation, signed in as the director: never a 5xx, always
/// a JSON error body for refusals.
/// Unknown paths and wrong methods answer in JSON too (every operation's garbage is in
/// `authorization.rs`, which has real ids to fill its paths with).
#[tokio::test]
async fn unknown_paths_and_methods_answer_in_json() {
    let server = TestServer::demo().await;
    let (_, body) = login(&server, "claire.martin", DEMO_PASSWORD).await;
    let token = body["token"].as_str().unwrap().to_owned();
    for (method, path) in [("GET", "/api/v1/nothing-here"), ("DELETE", "/api/v1/me"), ("PATCH", "/api/v1/school")] {
        let (status, body) = api(&server, method, path, Some(&token), None).await;
        assert!(status.is_client_error(), "{method} {path}: {status}");
        assert!(body["message"].is_string(), "{method} {path}: {body}");
    }
}
