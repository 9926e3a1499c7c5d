//! Static assets (CSS, the live script, icons, pictures), embedded in the binary and served
//! at URLs that carry a hash of their content (`/static/icons/home.1a2b3c4d.svg`), so that
//! browsers keep them a year without asking again. Hashes, the stylesheets' links to other
//! assets and the gzip and brotli encodings are computed once per process.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Display;
use std::io::Write as _;
use std::sync::LazyLock;

use super::Routes;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../ui/static"]
#[exclude = "*.md"]
struct Static;

/// Hex digits of the content hash in an asset's URL: 32 bits tell versions of one file
/// apart; the hash is no security boundary.
pub const HASH_LEN: usize = 8;
/// The answer at an asset's current hashed URL: those bytes never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The answer at an unhashed or stale URL: the current bytes, checked again (ETag) at each use.
pub const REVALIDATE: &str = "public, no-cache";

struct Asset {
    /// `/static/<dir>/<stem>.<hash>.<ext>`.
    url: String,
    hash: String,
    mime: String,
    identity: Bytes,
    /// Kept only when smaller than `identity`.
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(load);

/// The static assets, at their hashed addresses.
pub fn routes() -> Routes {
    Routes::new().get("/static/{*path}", asset)
}

/// Hashes and compresses every asset now rather than on the first request.
pub fn prepare() {
    LazyLock::force(&ASSETS);
}

/// The URL to reference the asset at `path` (relative to `ui/static/`) by: the only way
/// templates and code name an asset. An unknown path (a bug) gets its unhashed URL, which
/// answers 404.
pub fn url(path: impl Display) -> Cow<'static, str> {
    let path = path.to_string();
    match ASSETS.get(&path) {
        Some(asset) => Cow::Borrowed(asset.url.as_str()),
        None => {
            tracing::warn!(path, "reference to a missing static asset");
            Cow::Owned(format!("/static/{path}"))
        }
    }
}

/// An asset's bytes and content type (for measurements).
pub fn get_asset(path: &str) -> Option<(Cow<'static, [u8]>, String)> {
    let file = Static::get(path)?;
    let mime = file.metadata.mimetype().to_owned();
    Some((file.data, mime))
}

fn load() -> HashMap<String, Asset> {
    let mut assets = HashMap::new();
    // Stylesheets last: they name the other assets by their hashed URLs, so that their own
    // hash changes when an image they use does.
    let (css, others): (Vec<_>, Vec<_>) = Static::iter().partition(|p| p.ends_with(".css"));
    for path in others.into_iter().chain(css) {
        let Some(file) = Static::get(&path) else { continue };
        let mime = file.metadata.mimetype().to_owned();
        let identity = if path.ends_with(".css") {
            Bytes::from(link_css(&path, &String::from_utf8_lossy(&file.data), &assets))
        } else {
            match file.data {
                Cow::Borrowed(bytes) => Bytes::from_static(bytes),
                Cow::Owned(bytes) => Bytes::from(bytes),
            }
        };
        let hash = blake3::hash(&identity).to_hex()[..HASH_LEN].to_owned();
        // Raster images and fonts are compressed already; SVG, CSS and JS are text.
        let text = !mime.starts_with("image/") || mime.starts_with("image/svg");
        let smaller = |encoded: Vec<u8>| (encoded.len() < identity.len()).then(|| Bytes::from(encoded));
        let (gzip, br) = if text { (smaller(gzip(&identity)), smaller(brotli(&identity))) } else { (None, None) };
        let url = hashed_url(&path, &hash);
        assets.insert(path.into_owned(), Asset { url, hash, mime, identity, gzip, br });
    }
    assets
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        // Quality 11 (the slowest, smallest) is affordable once per process.
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        encoder.write_all(bytes).expect("writing to memory");
    }
    out
}

/// `dir/stem.ext` → `/static/dir/stem.<hash>.ext`: the hash in the file name keeps the
/// extension last (what tools and people read the type from) and the folder layout.
fn hashed_url(path: &str, hash: &str) -> String {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let name = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{name}.{hash}"),
    };
    if dir.is_empty() { format!("/static/{name}") } else { format!("/static/{dir}/{name}") }
}

/// The asset a request path names, and the hash it carries (`None`: an unhashed path).
fn lookup(path: &str) -> Option<(&'static Asset, Option<&str>)> {
    if let Some(asset) = ASSETS.get(path) {
        return Some((asset, None));
    }
    let (dir, name) = path.rsplit_once('/').map_or((None, path), |(d, n)| (Some(d), n));
    let parts: Vec<&str> = name.split('.').collect();
    let n = parts.len();
    // `stem.hash.ext`, or `name.hash` for a file without an extension.
    let candidates = [
        (n >= 3).then(|| (parts[n - 2], format!("{}.{}", parts[..n - 2].join("."), parts[n - 1]))),
        (n >= 2).then(|| (parts[n - 1], parts[..n - 1].join("."))),
    ];
    candidates.into_iter().flatten().find_map(|(hash, file)| {
        let well_formed =
            hash.len() == HASH_LEN && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let key = dir.map_or_else(|| file.clone(), |d| format!("{d}/{file}"));
        well_formed.then(|| ASSETS.get(&key)).flatten().map(|asset| (asset, Some(hash)))
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Br,
}

/// Which of our codings the client accepts (`Accept-Encoding`, q=0 refuses one).
fn accepted(headers: &HeaderMap) -> [bool; 2] {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        for item in value.to_str().unwrap_or_default().split(',') {
            let mut params = item.split(';');
            let name = params.next().unwrap_or_default().trim();
            let q = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| v.trim().parse::<f32>().unwrap_or(0.0));
            if name.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if name == "*" {
                any = Some(q);
            }
        }
    }
    [br, gzip].map(|q| q.or(any).is_some_and(|q| q > 0.0))
}

impl Asset {
    /// The smallest encoding the client accepts.
    fn representation(&self, headers: &HeaderMap) -> (Coding, &Bytes) {
        let [br, gzip] = accepted(headers);
        match (&self.br, &self.gzip) {
            (Some(bytes), _) if br => (Coding::Br, bytes),
            (_, Some(bytes)) if gzip => (Coding::Gzip, bytes),
            _ => (Coding::Identity, &self.identity),
        }
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, as for GET).
pub(super) fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || bare(t) == bare(etag)
    })
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some((asset, hash)) = lookup(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An unhashed URL, or one from another build (a page rendered before an update): still
    // served, so that such a page keeps its look, but never as immutable.
    let current = hash == Some(asset.hash.as_str());
    let (coding, body) = asset.representation(&headers);
    // Each encoding is its own representation, with its own strong validator.
    let etag = match coding {
        Coding::Identity => format!("\"{}\"", asset.hash),
        Coding::Gzip => format!("\"{}-gz\"", asset.hash),
        Coding::Br => format!("\"{}-br\"", asset.hash),
    };
    let mut response = if etag_matches(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.mime.clone())], body.clone()).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(if current { IMMUTABLE } else { REVALIDATE }));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, etag);
    }
    match coding {
        Coding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        Coding::Br => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        Coding::Identity => None,
    };
    // Already as small as it gets: the compression layer leaves it alone.
    response.extensions_mut().insert(super::Uncompressed);
    response
}

/// `url(...)` references of the stylesheet at `path` to other assets, replaced by their
/// hashed URLs (from `known`); others (`data:`, fragments, missing files) are left as they are.
fn link_css(path: &str, css: &str, known: &HashMap<String, Asset>) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("url(") {
        let (head, tail) = rest.split_at(i + "url(".len());
        out.push_str(head);
        let Some(end) = tail.find(')') else {
            rest = tail;
            break;
        };
        let target = tail[..end].trim().trim_matches(|c| c == '"' || c == '\'');
        let split = target.find(['?', '#']).unwrap_or(target.len());
        let (file, suffix) = target.split_at(split);
        match resolve(path, file).and_then(|p| known.get(&p)) {
            Some(asset) => {
                out.push('"');
                out.push_str(&asset.url);
                out.push_str(suffix);
                out.push('"');
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The asset path that a reference from the asset at `from` names: `/static/x` or relative.
fn resolve(from: &str, target: &str) -> Option<String> {
    if let Some(path) = target.strip_prefix("/static/") {
        return Some(path.to_owned());
    }
    if target.is_empty() || target.starts_with('/') || target.contains(':') {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Every asset path and its URL (for tests and measurements).
pub fn urls() -> Vec<(String, String)> {
    ASSETS.iter().map(|(path, asset)| (path.clone(), asset.url.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.clone(), HeaderValue::from_str(v).unwrap())).collect()
    }

    #[test]
    fn urls_carry_the_content_hash_and_lead_back_to_their_asset() {
        assert!(!ASSETS.is_empty());
        for (path, asset) in ASSETS.iter() {
            assert_eq!(asset.hash, blake3::hash(&asset.identity).to_hex()[..HASH_LEN]);
            assert!(asset.url.contains(&asset.hash), "{}", asset.url);
            let (found, hash) = lookup(asset.url.strip_prefix("/static/").unwrap()).unwrap();
            assert_eq!((found.url.as_str(), hash), (asset.url.as_str(), Some(asset.hash.as_str())), "{path}");
            assert_eq!(url(path), asset.url);
        }
        assert_eq!(hashed_url("style.css", "0123abcd"), "/static/style.0123abcd.css");
        assert_eq!(hashed_url("icons/home.svg", "0123abcd"), "/static/icons/home.0123abcd.svg");
        assert_eq!(hashed_url("LICENSE", "0123abcd"), "/static/LICENSE.0123abcd");
        // A stale hash still names the asset; a malformed one or a missing file names nothing.
        assert_eq!(lookup("style.00000000.css").unwrap().1, Some("00000000"));
        assert!(lookup("style.css").unwrap().1.is_none());
        for missing in ["style.nothex00.css", "style.0000.css", "nothing.00000000.css", "icons/style.00000000.css"] {
            assert!(lookup(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn compressed_encodings_decode_to_the_asset() {
        let asset = &ASSETS["style.css"];
        let (gz, br) = (asset.gzip.as_ref().unwrap(), asset.br.as_ref().unwrap());
        assert!(br.len() < gz.len() && gz.len() < asset.identity.len());
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(plain, asset.identity);
        plain.clear();
        std::io::Read::read_to_end(&mut ::brotli::Decompressor::new(&br[..], 4096), &mut plain).unwrap();
        assert_eq!(plain, asset.identity);
    }

    #[test]
    fn accept_encoding_is_negotiated_with_its_weights() {
        let ae = |v: &str| accepted(&headers(&[(header::ACCEPT_ENCODING, v)]));
        assert_eq!(accepted(&HeaderMap::new()), [false, false]);
        assert_eq!(ae("gzip, deflate, br, zstd"), [true, true]);
        assert_eq!(ae("gzip"), [false, true]);
        assert_eq!(ae("BR;Q=0.5"), [true, false]);
        assert_eq!(ae("br;q=0, gzip;q=0.1"), [false, true]);
        assert_eq!(ae("*"), [true, true]);
        assert_eq!(ae("*;q=0, gzip"), [false, true]);
        assert_eq!(ae("identity"), [false, false]);
        let asset = &ASSETS["style.css"];
        assert_eq!(asset.representation(&headers(&[(header::ACCEPT_ENCODING, "gzip, br")])).0, Coding::Br);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let inm = |v: &str| headers(&[(header::IF_NONE_MATCH, v)]);
        assert!(etag_matches(&inm("\"abc\""), "\"abc\""));
        assert!(etag_matches(&inm("W/\"x\", \"abc\""), "\"abc\""));
        assert!(etag_matches(&inm("*"), "\"abc\""));
        assert!(!etag_matches(&inm("\"abc-br\""), "\"abc\""));
        assert!(!etag_matches(&HeaderMap::new(), "\"abc\""));
    }

    #[test]
    fn stylesheets_name_other_assets_by_their_hashed_urls() {
        let icon = &ASSETS["icons/home.svg"].url;
        let css = "a{background:url(icons/home.svg)} b{background:url( \"/static/icons/home.svg#x\" )} \
                   c{background:url(data:image/png;base64,AA)} d{background:url('../nowhere.svg')} e{x:url(";
        let linked = link_css("style.css", css, &ASSETS);
        assert!(linked.contains(&format!("url(\"{icon}\")")), "{linked}");
        assert!(linked.contains(&format!("url(\"{icon}#x\")")), "{linked}");
        assert!(linked.contains("url(data:image/png;base64,AA)") && linked.contains("url('../nowhere.svg')"));
        assert!(linked.ends_with("e{x:url("));
        assert_eq!(resolve("sub/a.css", "../icons/home.svg").as_deref(), Some("icons/home.svg"));
        assert_eq!(resolve("a.css", "../x.svg"), None);
        // The shipped stylesheets: every url() names an asset by its hashed URL.
        for (path, asset) in ASSETS.iter().filter(|(p, _)| p.ends_with(".css")) {
            let css = String::from_utf8_lossy(&asset.identity);
            for reference in css.split("url(").skip(1) {
                let target = reference.split(')').next().unwrap().trim().trim_matches(['"', '\'']);
                assert!(
                    target.starts_with("data:") || ASSETS.values().any(|a| target.starts_with(&a.url)),
                    "{path}: url({target}) is not an asset's hashed URL"
                );
            }
        }
    }

    #[test]
    fn templates_name_assets_through_the_helper_only() {
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/templates"));
        let folders = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path());
        let templates: Vec<_> =
            folders.flat_map(|f| std::fs::read_dir(f).unwrap().map(|e| e.unwrap().path())).collect();
        assert!(templates.len() > 30, "templates are grouped in folders: {}", templates.len());
        for path in templates {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("\"/static/"),
                "{}: names an asset by hand; use {{{{ crate::web::asset(\"…\") }}}}",
                path.display()
            );
            // Whole names only; `"icons/" ~ t.icon ~ ".svg"` is checked on the pages themselves.
            for literal in
                text.split("web::asset(\"").skip(1).filter(|l| !l.split_once('"').unwrap().1.starts_with(" ~"))
            {
                let name = literal.split('"').next().unwrap();
                assert!(ASSETS.contains_key(name), "{}: no asset {name}", path.display());
            }
        }
        for picture in crate::school::accounts::secrets::PICTURES {
            assert!(ASSETS.contains_key(&format!("pictures/{picture}.svg")), "{picture}");
        }
    }
}
