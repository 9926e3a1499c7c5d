//! Pages kept as rendered. A page whose every word comes from the replica (its documents and
//! the directory), from who asks, the language, today's date and the page chrome may be
//! kept (on the hub, a home page also shows a family's linked accounts, whose changes call
//! `Db::changed_beside`): its handler marks the answer with [`kept`]. The session layer then keeps it for
//! that person and serves it again, without running the handler, until the replica next
//! changes (any write, local or a peer's). See ARCHITECTURE.md, « Pages kept as rendered ».
//!
//! The one part of such a page that belongs to the session and to the answer, the masked
//! CSRF token ([`super::session::mask_csrf`]), is cut out when the page is kept and a fresh
//! one is spliced in for every answer.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::SignedIn;
use crate::platform::i18n::Locale;
use crate::platform::shelf::Shelf;
use crate::school::directory::{Profile, UserId};
use preau_sync::Uai;

/// Rendered bytes kept at most, all rendered from the replica's newest generation: a
/// 300-pupil school's home pages (about 4 KB each, 1.2 MB) three times over. When full,
/// every page goes: each costs one render to make again.
const KEPT_BYTES: usize = 4 << 20;

/// Larger pages (a class's roster, letters) are not kept: they are rare, and would crowd
/// out the many small ones.
const LARGEST_KEPT: usize = 64 << 10;

/// Marks an answer that its handler allows to be kept (see the module's documentation for
/// what the page may depend on).
#[derive(Clone, Copy, Debug)]
pub struct Keep;

/// `response`, marked as one that may be kept.
pub fn kept(mut response: Response) -> Response {
    response.extensions_mut().insert(Keep);
    response
}

/// Everything a kept page may depend on besides the replica: who asks, at which school (as
/// the page header names them), in which language, on which day, with which footer, for
/// which address.
#[derive(PartialEq, Eq, Hash)]
pub struct Key {
    school: Option<Uai>,
    user: UserId,
    profile: Profile,
    name: String,
    lang: &'static str,
    /// Days since the Unix epoch (UTC), as [`crate::platform::clock::today`] counts them.
    day: i64,
    note: Option<String>,
    target: String,
}

impl Key {
    /// The key of a page at `target` (path and query) asked by `who`.
    pub fn new(who: &SignedIn, locale: Locale, note: Option<&str>, target: &str) -> Self {
        Self {
            school: who.school.clone(),
            user: who.user.clone(),
            profile: who.profile,
            name: who.display_name.clone(),
            lang: locale.lang(),
            day: crate::platform::clock::now_ms().div_euclid(86_400_000),
            note: note.map(str::to_owned),
            target: target.to_owned(),
        }
    }
}

/// A kept page: its headers, and its body cut where the CSRF token was.
struct Page {
    headers: HeaderMap,
    pieces: Vec<Bytes>,
    bytes: usize,
}

/// The kept pages of every person, weighed in bytes.
pub struct KeptPages(Shelf<Key, Arc<Page>>);

impl Default for KeptPages {
    fn default() -> Self {
        Self(Shelf::new(KEPT_BYTES))
    }
}

impl KeptPages {
    /// The page kept under `key` if the replica is still at `generation`, with `csrf` where
    /// its token was.
    pub fn answer(&self, key: &Key, generation: u64, csrf: &str) -> Option<Response> {
        let page = self.0.get(key, generation)?;
        let mut body = Vec::with_capacity(page.bytes + page.pieces.len() * csrf.len());
        for (i, piece) in page.pieces.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(csrf.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = page.headers.clone();
        Some(response)
    }

    /// Keeps `response` under `key` when its handler allowed it, it is a whole page (200)
    /// and not too large, and gives it back as it was. `generation` must have been read
    /// before the handler ran: an answer that saw a later write is then never served
    /// (the order [`crate::platform::db::Db::memo`] relies on).
    pub async fn keep(&self, key: Key, generation: u64, csrf: &str, response: Response) -> Response {
        let size = response.body().size_hint().exact().and_then(|n| usize::try_from(n).ok());
        let keep = response.status() == StatusCode::OK
            && response.extensions().get::<Keep>().is_some()
            && !response.headers().contains_key(header::SET_COOKIE)
            && size.is_some_and(|n| n <= LARGEST_KEPT);
        if !keep {
            return response;
        }
        let (parts, body) = response.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, LARGEST_KEPT).await else {
            // Unreachable with an exact size within the limit; an empty answer is wrong
            // but never someone else's.
            return Response::from_parts(parts, Body::empty());
        };
        // Kept in an allocation of its own size: the rendered buffer has room to spare.
        let exact = Bytes::copy_from_slice(&bytes);
        let page = Page { headers: parts.headers.clone(), pieces: cut(&exact, csrf.as_bytes()), bytes: exact.len() };
        self.0.put(key, generation, Arc::new(page), exact.len());
        Response::from_parts(parts, Body::from(bytes))
    }
}

/// `bytes` cut at every occurrence of `token` (which is left out).
fn cut(bytes: &Bytes, token: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while token.len() <= bytes.len() - at {
        if bytes[at..].starts_with(token) {
            pieces.push(bytes.slice(start..at));
            at += token.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(bytes.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_where_its_token_was() {
        let page = Bytes::from_static(b"<a>TOKEN</a><b>TOKEN</b>TOKEN");
        let pieces = cut(&page, b"TOKEN");
        assert_eq!(pieces, ["<a>", "</a><b>", "</b>", ""].map(|p| Bytes::from_static(p.as_bytes())));
        assert_eq!(cut(&Bytes::from_static(b"none"), b"TOKEN"), [Bytes::from_static(b"none")]);
        assert_eq!(cut(&Bytes::from_static(b"TOK"), b"TOKEN"), [Bytes::from_static(b"TOK")]);
    }

    fn who(name: &str) -> (UserId, &str) {
        (UserId::random(), name)
    }

    async fn body(response: Response) -> String {
        String::from_utf8(axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap()
    }

    /// Kept for one person, one generation; served with the asker's token; never for
    /// another key, an unmarked answer, a refusal, or a later generation.
    #[tokio::test]
    async fn a_page_serves_its_person_until_the_replica_changes() {
        let kept_pages = KeptPages::default();
        let (lea, tom) = (who("Léa"), who("Tom"));
        let key = |w: &(UserId, &str), target: &str| {
            Key::new(
                &SignedIn::new(None, w.0.clone(), Profile::Pupil, w.1.into(), false),
                Locale::default(),
                None,
                target,
            )
        };
        let page = |html: &str| kept(Response::new(Body::from(html.to_owned())));
        let served = kept_pages.keep(key(&lea, "/"), 7, "t1", page("<p>t1</p><i>t1</i>")).await;
        assert_eq!(body(served).await, "<p>t1</p><i>t1</i>", "given back as it was");
        let again = kept_pages.answer(&key(&lea, "/"), 7, "t2").expect("kept");
        assert_eq!(body(again).await, "<p>t2</p><i>t2</i>");
        assert!(kept_pages.answer(&key(&tom, "/"), 7, "t2").is_none(), "another person");
        assert!(kept_pages.answer(&key(&lea, "/?week=2026-12-07"), 7, "t2").is_none(), "another address");
        assert!(kept_pages.answer(&key(&lea, "/"), 8, "t2").is_none(), "the replica changed");
        // A page rendered from a newer replica forgets the older ones; an older one is stale.
        kept_pages.keep(key(&lea, "/homework"), 8, "t1", page("<p>8</p>")).await;
        kept_pages.keep(key(&tom, "/"), 7, "t1", page("<p>7</p>")).await;
        assert!(kept_pages.answer(&key(&lea, "/homework"), 8, "t").is_some());
        assert!(kept_pages.answer(&key(&tom, "/"), 7, "t").is_none());
        assert!(kept_pages.answer(&key(&lea, "/"), 7, "t").is_none());

        let unmarked = Response::new(Body::from("x"));
        kept_pages.keep(key(&lea, "/team"), 7, "t1", unmarked).await;
        let mut refused = page("x");
        *refused.status_mut() = StatusCode::BAD_REQUEST;
        kept_pages.keep(key(&lea, "/news"), 7, "t1", refused).await;
        assert!(kept_pages.answer(&key(&lea, "/team"), 7, "t").is_none());
        assert!(kept_pages.answer(&key(&lea, "/news"), 7, "t").is_none());
    }
}
