//! Audience measurement, counted where people use Préau: every server counts, in memory,
//! the sessions it opens (« connexions ») and each session's first page of a service in a
//! day (« visites »), by school, day, profile and service, and which accounts were active
//! in the month. Counting is all this does; the counts are written to the school's usage
//! documents by whoever holds them (`academy::usage::flush`), so an appliance offline for
//! weeks counts its own use and its next sync carries it to the hub.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use preau_sync::Uai;

use super::{AppState, Ctx, SignedIn};

/// The service name of a session's opening.
pub const CONNECTION: &str = "connexion";

/// Counts not yet written, by school and month.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// Day of the month (`05`) → `profile/service` → count.
    pub days: BTreeMap<String, BTreeMap<String, i64>>,
    /// Account id → profile.
    pub active: BTreeMap<String, String>,
}

/// What this server counted since the last write.
#[derive(Default)]
pub struct Usage {
    counted: Mutex<BTreeMap<(Uai, String), Counted>>,
    /// The visits already counted today: (day, a hash of the session, service).
    seen: Mutex<(String, HashSet<(u64, &'static str)>)>,
}

impl Usage {
    /// Counts one `service` event by `who` (a school's member) today.
    fn count(&self, who: &SignedIn, service: &str) {
        let Some(school) = &who.school else { return };
        let today = crate::platform::clock::today();
        let (month, day) = today.split_at(7);
        let mut counted = self.counted.lock().unwrap_or_else(|p| p.into_inner());
        let entry = counted.entry((school.clone(), month.to_owned())).or_default();
        let profile = who.profile.as_str();
        *entry.days.entry(day[1..].to_owned()).or_default().entry(format!("{profile}/{service}")).or_default() += 1;
        entry.active.insert(who.user.to_string(), profile.to_owned());
    }

    /// A session opened.
    pub fn connection(&self, who: &SignedIn) {
        self.count(who, CONNECTION);
    }

    /// A page of `service` seen by session `sid`: counted once a day per session.
    fn visit(&self, sid: &str, who: &SignedIn, service: &'static str) {
        let today = crate::platform::clock::today();
        let key =
            (u64::from_le_bytes(blake3::hash(sid.as_bytes()).as_bytes()[..8].try_into().unwrap_or_default()), service);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.0 != today {
                *seen = (today, HashSet::new());
            }
            if !seen.1.insert(key) {
                return;
            }
        }
        self.count(who, service);
    }

    /// Takes what was counted, to write it.
    pub fn take(&self) -> BTreeMap<(Uai, String), Counted> {
        std::mem::take(&mut *self.counted.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts back what could not be written (counted again at the next write).
    pub fn put_back(&self, unwritten: BTreeMap<(Uai, String), Counted>) {
        let mut counted = self.counted.lock().unwrap_or_else(|p| p.into_inner());
        for (key, back) in unwritten {
            let entry = counted.entry(key).or_default();
            add_days(&mut entry.days, back.days);
            entry.active.extend(back.active);
        }
    }
}

/// Adds counts by day and `profile/service` to others.
pub fn add_days(into: &mut BTreeMap<String, BTreeMap<String, i64>>, from: BTreeMap<String, BTreeMap<String, i64>>) {
    for (day, counts) in from {
        let into = into.entry(day).or_default();
        for (what, n) in counts {
            *into.entry(what).or_default() += n;
        }
    }
}

/// Middleware on a service's pages: a signed-in session's first successful page of
/// `service` today is one visit.
pub async fn visits(service: &'static str, request: Request, next: Next) -> Response {
    let who = (request.method() == axum::http::Method::GET)
        .then(|| {
            let ctx = request.extensions().get::<Ctx>()?;
            let who = ctx.signed_in.clone()?;
            Some((request.extensions().get::<AppState>()?.clone(), ctx.sid.clone(), who))
        })
        .flatten();
    let response = next.run(request).await;
    if let Some((state, sid, who)) = who
        && response.status().is_success()
    {
        state.usage.visit(&sid, &who, service);
    }
    response
}
