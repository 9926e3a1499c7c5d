//! Over the wire to families: pages and API answers compressed as the client asks, event
//! streams and files left alone, assets at content-hashed URLs kept a year, API reads
//! revalidated with their ETag. A real server, real HTTP, encodings decoded here.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::time::Duration;

use crate::common::{TestServer, api, pupil_browser, token};
use preau_appliance::school::demo::DEMO_PASSWORD;
use preau_appliance::web::assets::{HASH_LEN, IMMUTABLE};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

/// One answer as it came over the wire.
struct Wire {
    status: StatusCode,
    headers: HeaderMap,
    /// The body as sent (encoded).
    raw: Vec<u8>,
}

impl Wire {
    fn encoding(&self) -> Option<&str> {
        self.headers.get("content-encoding").map(|v| v.to_str().unwrap())
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// The body once its `Content-Encoding` is undone.
    fn decoded(&self) -> Vec<u8> {
        let mut plain = Vec::new();
        match self.encoding() {
            None => plain.clone_from(&self.raw),
            Some("gzip") => {
                flate2::read::GzDecoder::new(&self.raw[..]).read_to_end(&mut plain).unwrap();
            }
            Some("br") => {
                brotli::Decompressor::new(&self.raw[..], 4096).read_to_end(&mut plain).unwrap();
            }
            Some(other) => panic!("unexpected encoding {other}"),
        }
        plain
    }

    fn text(&self) -> String {
        String::from_utf8(self.decoded()).unwrap()
    }
}

/// `method path` with exactly these headers (reqwest here neither asks for nor undoes any
/// encoding by itself).
async fn send(server: &TestServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Wire {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.request(method.parse().unwrap(), format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    Wire { status, headers, raw: response.bytes().await.unwrap().to_vec() }
}

async fn get(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> Wire {
    send(server, "GET", path, headers).await
}

/// The session cookie of a director logged in through the login form.
async fn director_cookie(server: &TestServer) -> String {
    let mut b = server.browser();
    b.login("claire.martin", DEMO_PASSWORD).await.assert_ok();
    format!("preau_sid={}", b.cookie("preau_sid").unwrap())
}

/// Each answer carries its own mask of the CSRF token: blanked out to compare two answers.
fn without_csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let mut parts = page.split(marker);
    let mut out = parts.next().unwrap().to_owned();
    for part in parts {
        out.push_str(marker);
        out.push_str(&part[part.find('"').unwrap()..]);
    }
    out
}

fn csrf_values(page: &str) -> BTreeSet<String> {
    page.split("name=\"csrf\" value=\"").skip(1).map(|p| p[..p.find('"').unwrap()].to_owned()).collect()
}

#[tokio::test]
async fn pages_and_api_answers_come_compressed_as_asked_and_decode_to_the_same_bytes() {
    let server = TestServer::demo().await;
    let cookie = director_cookie(&server).await;
    let t = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let bearer = format!("Bearer {t}");
    let pages: [(&str, &str, &str); 3] = [
        ("/", "cookie", cookie.as_str()),
        ("/api/v1/accounts", "authorization", bearer.as_str()),
        ("/api/v1/openapi.json", "accept-language", "fr"),
    ];
    for (path, name, value) in pages {
        let plain = get(&server, path, &[(name, value)]).await;
        assert_eq!(plain.status, StatusCode::OK, "{path}");
        assert_eq!(plain.encoding(), None, "{path}: nothing asked, nothing encoded");
        assert!(plain.raw.len() > 2048, "{path}: big enough to be worth compressing ({})", plain.raw.len());
        let mut seen = vec![csrf_values(&plain.text())];
        for (accept, expected) in
            [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br, zstd", "br"), ("br;q=0, gzip", "gzip")]
        {
            let encoded = get(&server, path, &[(name, value), ("accept-encoding", accept)]).await;
            assert_eq!(encoded.status, StatusCode::OK, "{path}");
            assert_eq!(encoded.encoding(), Some(expected), "{path} with {accept}");
            assert!(encoded.header("vary").to_ascii_lowercase().contains("accept-encoding"), "{path}");
            assert!(encoded.raw.len() * 2 < plain.raw.len(), "{path}: {} → {}", plain.raw.len(), encoded.raw.len());
            assert_eq!(without_csrf(&encoded.text()), without_csrf(&plain.text()), "{path} with {accept}");
            // Compression changes none of the security headers.
            assert_eq!(encoded.header("cache-control"), "no-store", "{path}");
            assert!(encoded.header("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
            assert_eq!(encoded.header("x-content-type-options"), "nosniff", "{path}");
            seen.push(csrf_values(&encoded.text()));
        }
        if path == "/" {
            // A compressed page never repeats the CSRF token byte for byte (BREACH): each
            // answer masks it afresh.
            assert!(seen.iter().all(|s| s.len() == 1), "{seen:?}");
            assert_eq!(seen.iter().flatten().collect::<BTreeSet<_>>().len(), seen.len(), "{seen:?}");
        }
    }
    // A masked token from any of those answers is good for a form.
    let mut b = server.browser();
    b.login("sophie.lebihan", DEMO_PASSWORD).await.assert_ok();
    let page = get(&server, "/", &[("cookie", &format!("preau_sid={}", b.cookie("preau_sid").unwrap()))]).await;
    b.csrf = csrf_values(&page.text()).into_iter().next().unwrap();
    assert_ne!(b.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    // Small answers go as they are.
    let small = get(&server, "/healthz", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!((small.status, small.encoding()), (StatusCode::OK, None));
    // HEAD still answers, with no body.
    let head = send(&server, "HEAD", "/", &[("cookie", &cookie), ("accept-encoding", "gzip, br")]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.raw.is_empty());
}

#[tokio::test]
async fn event_streams_are_not_compressed_and_still_deliver_at_once() {
    let server = TestServer::demo().await;
    let at = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let director = server.member("claire.martin").id.to_string();
    let (status, created) = api(
        &server,
        "POST",
        "/api/v1/conversations",
        Some(&at),
        Some(json!({"subject": "Sortie", "to": [director], "body": "Bonjour"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let key = created["id"].as_str().unwrap().to_owned();
    let dt = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let mut events = reqwest::Client::new()
        .get(format!("{}/messages/events", server.base))
        .bearer_auth(&dt)
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    assert!(events.headers().get("content-encoding").is_none(), "{:?}", events.headers());
    let (status, _) = api(
        &server,
        "POST",
        &format!("/api/v1/conversations/{key}/messages"),
        Some(&at),
        Some(json!({"body": "Le car est là."})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Buffered in an encoder, the event would wait for more; it must come now, as text.
    let mut heard = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while !heard.contains(&key) {
            match events.chunk().await.unwrap() {
                Some(bytes) => heard.push_str(std::str::from_utf8(&bytes).expect("plain text")),
                None => break,
            }
        }
    })
    .await
    .expect("the update event, promptly");
    assert!(heard.contains("event: update") && heard.contains(&format!("data: {key}")), "{heard}");
}

#[tokio::test]
async fn attached_files_and_replication_are_left_as_they_are() {
    let server = TestServer::demo().await;
    let director = server.member("claire.martin").id.to_string();
    let mut atsem = server.browser();
    atsem.login("martine.guillemot", DEMO_PASSWORD).await;
    atsem.get("/messages/new").await;
    // Very compressible, and still sent as it is: a file is the family's, byte for byte.
    let menu = "Lundi : carottes râpées, poisson, riz.\n".repeat(500).into_bytes();
    let sent = atsem
        .post_files(
            "/messages/new",
            &[("to", director.as_str()), ("subject", "Menus"), ("body", "Ci-joint les menus.")],
            &[("menus.txt", menu.clone())],
        )
        .await;
    let path = sent.location.clone().expect("sent");
    let link = format!("{path}/files/{}", blake3::hash(&menu).to_hex());
    let cookie = director_cookie(&server).await;
    let file = get(&server, &link, &[("cookie", &cookie), ("accept-encoding", "gzip, br")]).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.encoding(), None);
    assert_eq!(file.raw, menu);
    // Replication is not even offered to the compression layer: an Accept-Encoding that
    // refuses everything, which a page answers with 406, changes nothing there.
    let refuse_all = [("accept-encoding", "identity;q=0, *;q=0")];
    assert_eq!(get(&server, "/login", &refuse_all).await.status, StatusCode::NOT_ACCEPTABLE);
    let offer = "/replication/v1/sessions/0000/offer";
    let (plain, refused) = (get(&server, offer, &[]).await, get(&server, offer, &refuse_all).await);
    assert_ne!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!((refused.status, refused.encoding(), &refused.raw), (plain.status, None, &plain.raw));
}

/// The `/static/...` URLs a page or stylesheet names (in quotes or in `url(...)`).
fn static_urls(text: &str) -> BTreeSet<String> {
    text.match_indices("/static/")
        .map(|(i, _)| text[i..].split(['"', '\'', ')', ' ', '<']).next().unwrap().to_owned())
        .collect()
}

/// The hash an asset URL carries: `stem.<hash>.ext`.
fn hash_in(url: &str) -> Option<&str> {
    let name = url.rsplit('/').next()?;
    let parts: Vec<&str> = name.split('.').collect();
    (parts.len() >= 3).then(|| parts[parts.len() - 2])
}

#[tokio::test]
async fn every_asset_a_page_names_is_hashed_immutable_and_matches_its_hash() {
    let server = TestServer::demo().await;
    let dir = server.directory();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    let pupil = dir.pupils_of(&ce.id)[0].clone();
    let director = director_cookie(&server).await;
    let p = pupil_browser(&server, &pupil).await;
    let pupil_cookie = format!("preau_sid={}", p.cookie("preau_sid").unwrap());
    let tablet = format!("preau_tablet={}", server.tablet_token(ce.id.as_str()));
    let keypad = format!("/classes/{}/login/{}", ce.id, pupil.id);
    let class_page = format!("/classes/{}", ce.id);
    let letters = format!("/letters/class/{}/pupils", ce.id);
    let pages: Vec<(&str, &str)> = vec![
        ("/", ""),
        ("/login", ""),
        ("/nowhere", ""),
        ("/", &pupil_cookie),
        (&keypad, &tablet),
        ("/", &director),
        (&class_page, &director),
        (&letters, &director),
        ("/messages", &director),
    ];
    let mut assets = BTreeSet::new();
    for (path, cookie) in pages {
        let page = get(&server, path, &[("cookie", cookie)]).await;
        assert!(page.status == StatusCode::OK || path == "/nowhere", "{path}: {}", page.status);
        let urls = static_urls(&page.text());
        assert!(!urls.is_empty(), "{path} names no asset");
        assets.extend(urls);
    }
    for needed in ["style.", "letters.", "live.", "favicon.", "icons/", "pictures/"] {
        assert!(assets.iter().any(|u| u.contains(needed)), "no {needed} among {assets:?}");
    }
    let mut todo: Vec<String> = assets.into_iter().collect();
    let mut checked = BTreeSet::new();
    while let Some(url) = todo.pop() {
        if !checked.insert(url.clone()) {
            continue;
        }
        let hash = hash_in(&url).unwrap_or_else(|| panic!("{url} carries no hash"));
        assert_eq!(hash.len(), HASH_LEN, "{url}");
        let plain = get(&server, &url, &[]).await;
        assert_eq!(plain.status, StatusCode::OK, "{url}");
        assert_eq!(plain.header("cache-control"), IMMUTABLE, "{url}");
        assert_eq!(plain.encoding(), None, "{url}");
        assert_eq!(&blake3::hash(&plain.raw).to_hex()[..HASH_LEN], hash, "{url}: the bytes are not the ones named");
        let expected = match url.rsplit('.').next().unwrap() {
            "css" => "text/css",
            "js" => "javascript",
            "svg" => "image/svg+xml",
            other => panic!("{url}: unexpected asset type {other}"),
        };
        assert!(plain.header("content-type").contains(expected), "{url}: {}", plain.header("content-type"));
        assert_eq!(plain.header("x-content-type-options"), "nosniff", "{url}");
        // Precompressed, decoding to the same bytes (tiny files may stay as they are).
        for accept in ["br", "gzip"] {
            let encoded = get(&server, &url, &[("accept-encoding", accept)]).await;
            assert_eq!(encoded.header("cache-control"), IMMUTABLE, "{url}");
            assert!(encoded.encoding().is_none_or(|e| e == accept), "{url}");
            assert_eq!(encoded.decoded(), plain.raw, "{url} with {accept}");
            if expected == "text/css" {
                assert_eq!(encoded.encoding(), Some(accept), "{url}");
            }
        }
        // What a stylesheet names is hashed too, and checked in turn.
        if expected == "text/css" {
            todo.extend(static_urls(&String::from_utf8_lossy(&plain.raw)));
        }
    }
}

#[tokio::test]
async fn a_stale_or_unhashed_asset_url_is_never_immutable() {
    let server = TestServer::demo().await;
    let current = preau_appliance::web::asset("style.css").into_owned();
    let hash = hash_in(&current).unwrap();
    let stale = current.replace(hash, if hash == "00000000" { "11111111" } else { "00000000" });
    let fresh = get(&server, &current, &[("accept-encoding", "br")]).await;
    for url in [stale.as_str(), "/static/style.css"] {
        let answer = get(&server, url, &[("accept-encoding", "br")]).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: a page from before an update keeps its look");
        let cache = answer.header("cache-control");
        assert!(!cache.contains("immutable") && cache.contains("no-cache"), "{url}: {cache}");
        assert_eq!(answer.decoded(), fresh.decoded(), "{url}: today's bytes");
        // Checked again at each use: a 304 while they have not changed.
        let etag = answer.header("etag").to_owned();
        assert!(!etag.is_empty(), "{url}");
        let again = get(&server, url, &[("accept-encoding", "br"), ("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{url}");
        assert!(again.raw.is_empty());
    }
    // HEAD of an asset: the headers of its GET, no body.
    let head = send(&server, "HEAD", &current, &[("accept-encoding", "br")]).await;
    assert_eq!((head.status, head.encoding(), head.raw.len()), (StatusCode::OK, Some("br"), 0));
    assert_eq!(head.header("content-length"), fresh.raw.len().to_string());
    assert_eq!(head.header("cache-control"), IMMUTABLE);
    for missing in ["/static/style.zzzzzzzz.css", "/static/nothing.00000000.css", "/static/nothing.css"] {
        assert_eq!(get(&server, missing, &[]).await.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test]
async fn api_reads_revalidate_with_their_etag() {
    let server = TestServer::demo().await;
    let dt = token(&server, "claire.martin", DEMO_PASSWORD).await;
    let auth = format!("Bearer {dt}");
    let first = get(&server, "/api/v1/conversations", &[("authorization", &auth)]).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    for accept in ["", "gzip, br"] {
        let again = get(
            &server,
            "/api/v1/conversations",
            &[("authorization", &auth), ("if-none-match", &etag), ("accept-encoding", accept)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{accept}");
        assert!(again.raw.is_empty());
        assert_eq!(again.header("etag"), etag);
        // Still personal: nothing stored on the way or on the machine.
        assert_eq!(again.header("cache-control"), "no-store");
        assert_eq!(again.header("x-content-type-options"), "nosniff");
    }
    // Once it changes, the old validator gets the new answer.
    let at = token(&server, "martine.guillemot", DEMO_PASSWORD).await;
    let director = server.member("claire.martin").id.to_string();
    let (status, _) = api(
        &server,
        "POST",
        "/api/v1/conversations",
        Some(&at),
        Some(json!({"subject": "Goûter", "to": [director], "body": "Des pommes."})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let changed = get(&server, "/api/v1/conversations", &[("authorization", &auth), ("if-none-match", &etag)]).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), etag);
    assert!(changed.text().contains("Goûter"));
}
