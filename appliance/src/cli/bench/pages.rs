//! `preau bench pages`: what a tablet downloads and how long the server takes, per page
//! type of the demo school, and what a login costs (argon2id).

use preau_appliance::out;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{Request, header};
use preau_appliance::platform::config::Config;
use preau_appliance::school::accounts::secrets;
use preau_appliance::school::directory::{Class, Member};
use preau_appliance::web::{self, AppState, SignedIn};
use tower::ServiceExt;

const ROUNDS: usize = 100;

/// The demo school on a fresh data directory, which every page benchmark measures: its CP
/// and the CP's first pupil.
pub struct Demo {
    /// The data directory, kept as long as the demo (removed when dropped).
    _data: tempfile::TempDir,
    /// The server's state.
    pub state: AppState,
    /// The demo CP.
    pub cp: Class,
    /// Its first pupil.
    pub pupil: Member,
}

impl Demo {
    pub fn open() -> Result<Self> {
        let data = tempfile::tempdir()?;
        let mut config = Config::load(Some(data.path().into()), |_| None)?;
        config.discovery = false;
        let state = preau_appliance::app::open(config, true)?;
        let dir = state.directory();
        let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").context("the demo CP")?.clone();
        let pupil = dir.pupils_of(&cp.id).first().context("a demo CP pupil")?.to_owned().clone();
        Ok(Self { _data: data, state, cp, pupil })
    }

    /// A session of a demo login (or of the pupil, with `None`): the cookie that carries it.
    pub fn cookie(&self, login: Option<&str>) -> Result<String> {
        let dir = self.state.directory();
        let m = match login {
            Some(login) => dir.by_login(login).with_context(|| format!("the demo's {login}"))?,
            None => &self.pupil,
        };
        let sid = self.state.sessions.start(SignedIn::of(&dir, m, false));
        Ok(format!("preau_sid={sid}"))
    }

    /// The router, as in-process requests reach it (from a LAN address).
    pub fn app(&self) -> axum::Router {
        preau_appliance::app::router(self.state.clone())
            .layer(axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 9))))
    }
}

pub async fn run(demo: &Demo) -> Result<()> {
    let (state, cp, app) = (&demo.state, &demo.cp, demo.app());
    let dir = state.directory();
    let director = demo.cookie(Some("claire.martin"))?;
    let tablet = preau_appliance::school::accounts::devices::mark_tablet(
        state,
        None,
        &cp.id,
        &dir.by_login("claire.martin").expect("demo director").id,
    )?;
    let tablet = Some(format!("preau_tablet={tablet}"));
    let pages: Vec<(&str, String, Option<String>)> = vec![
        ("public page", "/".into(), None),
        ("login", "/login".into(), None),
        ("class picture login (24 pupils)", format!("/classes/{}/login", cp.id), tablet.clone()),
        ("pictures keypad", format!("/classes/{}/login/{}", cp.id, demo.pupil.id), tablet),
        ("pupil home", "/".into(), Some(demo.cookie(None)?)),
        ("parent home", "/".into(), Some(demo.cookie(Some("aurelie.kerherve"))?)),
        ("teacher home", "/".into(), Some(demo.cookie(Some("sophie.lebihan"))?)),
        ("director home", "/".into(), Some(director.clone())),
        (
            "cahier de textes week (teacher)",
            format!("/classes/{}/homework", cp.id),
            Some(demo.cookie(Some("julien.roche"))?),
        ),
        ("class roster", format!("/classes/{}", cp.id), Some(director.clone())),
        ("CP pupils' letters (24 pages)", format!("/letters/class/{}/pupils", cp.id), Some(director)),
    ];
    out!("\n## Pages (demo school; HTML only, median of {ROUNDS} in-process requests)");
    out!("rendered: after a write, as every page is the first time; kept: asked again, as it was (web::kept)");
    out!("{:<34} {:>10} {:>13} {:>9}", "page", "bytes", "rendered µs", "kept µs");
    for (name, path, cookie) in pages {
        let mut bytes = 0;
        let mut medians = [0.0; 2];
        for (median, write_first) in medians.iter_mut().zip([true, false]) {
            let mut times = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                if write_first {
                    state.db.run(|_| Ok(())).await?;
                }
                let mut request = Request::get(&path);
                if let Some(cookie) = &cookie {
                    request = request.header(header::COOKIE, cookie);
                }
                let started = Instant::now();
                let response = app.clone().oneshot(request.body(Body::empty())?).await?;
                anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
                let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                times.push(started.elapsed());
                bytes = body.len();
            }
            times.sort();
            *median = times[ROUNDS / 2].as_secs_f64() * 1e6;
        }
        out!("{name:<34} {bytes:>10} {:>13.1} {:>9.1}", medians[0], medians[1]);
    }
    let css = web::assets::get_asset("style.css").map_or(0, |(b, _)| b.len());
    let pictures: usize = secrets::PICTURES
        .iter()
        .filter_map(|p| web::assets::get_asset(&format!("pictures/{p}.svg")))
        .map(|(b, _)| b.len())
        .sum();
    out!("style.css: {css} bytes; the 16 login pictures: {pictures} bytes (hashed URLs, kept a year)");

    out!("\n## Logins");
    let hash = secrets::hash_password("un-mot-de-passe");
    let time = |f: &dyn Fn()| {
        let started = Instant::now();
        for _ in 0..10 {
            f();
        }
        started.elapsed() / 10
    };
    let verify: Duration = time(&|| {
        secrets::verify_password("un-mot-de-passe", &hash);
    });
    out!("argon2id verify (one password login): {:.1} ms", verify.as_secs_f64() * 1000.0);
    let check: Duration = time(&|| {
        let _ = secrets::check_new_password(
            "cartable-vert-2026",
            "cartable-vert-2026",
            "lea.martin",
            &["Léa", "Martin", "École élémentaire Les Tilleuls"],
        );
    });
    out!("new password check (zxcvbn, the account's words): {:.1} ms", check.as_secs_f64() * 1000.0);
    Ok(())
}

// A pupil's first visit over the wire: kept apart from the page timings above.

/// What a pupil's first visit transfers: the home page and every same-site asset it loads
/// (`<link href>`, `src`, and the stylesheets' `url()`s), as sent to a client that asks for
/// no encoding, for gzip, and for `gzip, br` (as browsers do), beside `gzip -9` (flate2,
/// level 9) of the same bytes. Bodies only, no HTTP headers.
pub async fn first_visit(demo: &Demo) -> Result<()> {
    use std::io::Write as _;
    let app = demo.app();
    let cookie = demo.cookie(None)?;
    // The bytes as sent, for one Accept-Encoding (None: the header is left out).
    let fetch = |path: String, accept: Option<&'static str>| {
        let app = app.clone();
        let cookie = cookie.clone();
        async move {
            let mut request = Request::get(&path).header(header::COOKIE, cookie);
            if let Some(accept) = accept {
                request = request.header(header::ACCEPT_ENCODING, accept);
            }
            let response = app.oneshot(request.body(Body::empty())?).await?;
            anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
            let encoding =
                response.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").to_owned());
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            anyhow::Ok((body.to_vec(), encoding))
        }
    };
    let gzip9 = |bytes: &[u8]| -> Result<usize> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(bytes)?;
        Ok(encoder.finish()?.len())
    };
    let mut queue = vec!["/".to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let (plain, _) = fetch(path.clone(), None).await?;
        let (gzip, gzip_coding) = fetch(path.clone(), Some("gzip")).await?;
        let (br, br_coding) = fetch(path.clone(), Some("gzip, br")).await?;
        let text = String::from_utf8_lossy(&plain);
        if path == "/" {
            queue.extend(loaded_by_page(&text));
        } else if path.ends_with(".css") {
            queue.extend(css_urls(&text));
        }
        let coding = format!("{}/{}", gzip_coding.as_deref().unwrap_or("-"), br_coding.as_deref().unwrap_or("-"));
        rows.push((path, plain.len(), gzip.len(), br.len(), gzip9(&plain)?, coding));
    }
    out!("\n## A pupil's first visit over the wire (home page and every asset it loads; bodies only)");
    out!("{:<40} {:>9} {:>9} {:>9} {:>9}  {}", "resource", "identity", "gzip", "gzip, br", "gzip -9", "sent as");
    let mut total = [0usize; 4];
    for (path, plain, gzip, br, gzip9, coding) in &rows {
        out!("{path:<40} {plain:>9} {gzip:>9} {br:>9} {gzip9:>9}  {coding}");
        for (sum, n) in total.iter_mut().zip([plain, gzip, br, gzip9]) {
            *sum += n;
        }
    }
    let [plain, gzip, br, gzip9] = total;
    out!("{:<40} {plain:>9} {gzip:>9} {br:>9} {gzip9:>9}", format!("first visit ({} resources)", rows.len()));
    let (_, page_plain, page_gzip, page_br, page_gzip9, _) = &rows[0];
    out!(
        "{:<40} {page_plain:>9} {page_gzip:>9} {page_br:>9} {page_gzip9:>9}",
        "later visits (the page; assets kept a year)"
    );
    Ok(())
}

/// Same-site URLs a browser loads with the page: stylesheets and icons (`<link href>`),
/// images and scripts (`src`); links (`<a href>`) are not loaded.
fn loaded_by_page(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let name = tag.split(|c: char| c.is_whitespace()).next().unwrap_or_default();
        let attribute = if name.eq_ignore_ascii_case("link") { " href=\"" } else { " src=\"" };
        if let Some(start) = tag.find(attribute) {
            let value = &tag[start + attribute.len()..];
            let value = &value[..value.find('"').unwrap_or(value.len())];
            if value.starts_with('/') && !value.starts_with("//") {
                urls.push(value.to_owned());
            }
        }
    }
    urls
}

/// Same-site `url(...)` references of a stylesheet.
fn css_urls(css: &str) -> Vec<String> {
    css.split("url(")
        .skip(1)
        .filter_map(|r| {
            let target = r[..r.find(')')?].trim().trim_matches(['"', '\'']);
            (target.starts_with('/') && !target.starts_with("//")).then(|| target.to_owned())
        })
        .collect()
}
