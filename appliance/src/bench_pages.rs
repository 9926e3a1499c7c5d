//! `preau bench pages`: what a tablet downloads and how long the server takes, per page
//! type of the demo school, and what a login costs (argon2id).

use preau_appliance::out;
use std::time::{Duration, Instant};

use anyhow::Result;
use axum::body::Body;
use axum::http::{Request, header};
use preau_appliance::accounts::secrets;
use preau_appliance::config::Config;
use preau_appliance::directory::Profile;
use preau_appliance::web::{self, SignedIn};
use tower::ServiceExt;

const ROUNDS: usize = 50;

pub async fn run() -> Result<()> {
    let data = tempfile::tempdir()?;
    let mut config = Config::load(Some(data.path().into()), |_| None)?;
    config.discovery = false;
    let state = preau_appliance::server::open(config, true)?;
    let app = web::app(state.clone())
        .layer(axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from(([127, 0, 0, 1], 9))));
    let dir = state.directory();
    let session = |login: &str| {
        let m = dir.by_login(login).expect("demo login");
        state.sessions.start(SignedIn::new(m.id.clone(), m.profile, m.full_name(), false))
    };
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").expect("demo CP").clone();
    let pupil = dir.pupils_of(&cp.id)[0].clone();
    let pupil_sid = state.sessions.start(SignedIn::new(pupil.id.clone(), Profile::Pupil, pupil.full_name(), false));
    let director = session("claire.martin");
    let tablet = preau_appliance::accounts::devices::mark_tablet(
        &state,
        None,
        &cp.id,
        &dir.by_login("claire.martin").expect("demo director").id,
    )?;
    let tablet = Some(format!("preau_tablet={tablet}"));
    let sid = |sid: String| Some(format!("preau_sid={sid}"));
    let pages: Vec<(&str, String, Option<String>)> = vec![
        ("public page", "/".into(), None),
        ("login", "/login".into(), None),
        ("class picture login (24 pupils)", format!("/classes/{}/login", cp.id), tablet.clone()),
        ("pictures keypad", format!("/classes/{}/login/{}", cp.id, pupil.id), tablet),
        ("pupil home", "/".into(), sid(pupil_sid)),
        ("parent home", "/".into(), sid(session("aurelie.kerherve"))),
        ("teacher home", "/".into(), sid(session("sophie.lebihan"))),
        ("director home", "/".into(), sid(director.clone())),
        ("class roster", format!("/classes/{}", cp.id), sid(director.clone())),
        ("CP pupils' letters (24 pages)", format!("/letters/class/{}/pupils", cp.id), sid(director.clone())),
    ];
    out!("\n## Pages (demo school; HTML only, median of {ROUNDS} in-process requests)");
    out!("{:<34} {:>10} {:>12}", "page", "bytes", "server ms");
    for (name, path, cookie) in pages {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut bytes = 0;
        for _ in 0..ROUNDS {
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
        out!("{name:<34} {bytes:>10} {:>12.2}", times[ROUNDS / 2].as_secs_f64() * 1000.0);
    }
    let css = web::assets::get_asset("style.css").map_or(0, |(b, _)| b.len());
    let pictures: usize = secrets::PICTURES
        .iter()
        .filter_map(|p| web::assets::get_asset(&format!("pictures/{p}.svg")))
        .map(|(b, _)| b.len())
        .sum();
    out!("style.css: {css} bytes; the 16 login pictures: {pictures} bytes (cached an hour)");

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
