//! User-facing text: Fluent files under `ui/locales/<lang>/`, embedded in the binary.
//! French is complete and the default; English is present.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../ui/locales"]
struct Files;

/// The languages Préau speaks, the default first.
pub const LANGUAGES: [&str; 2] = ["fr", "en"];

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 2] {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| LANGUAGES.map(load))
}

fn load(lang: &str) -> Bundle {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("static language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Isolation marks would end up inside HTML attributes and printed letters.
    bundle.set_use_isolating(false);
    let mut names: Vec<_> =
        Files::iter().filter(|n| n.starts_with(&format!("{lang}/")) && n.ends_with(".ftl")).collect();
    names.sort();
    for name in names {
        let file = Files::get(&name).expect("listed file");
        let text = String::from_utf8(file.data.into_owned()).expect("localisation files are UTF-8");
        let resource = FluentResource::try_new(text).unwrap_or_else(|(_, e)| panic!("{name}: {e:?}"));
        if let Err(e) = bundle.add_resource(resource) {
            panic!("{name}: {e:?}");
        }
    }
    bundle
}

/// One language's messages.
#[derive(Clone, Copy)]
pub struct Locale {
    bundle: &'static Bundle,
    lang: &'static str,
}

impl std::fmt::Debug for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.lang)
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self { bundle: &bundles()[0], lang: LANGUAGES[0] }
    }
}

impl Locale {
    /// The best language for an `Accept-Language` header (French unless English is preferred).
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else { return Self::default() };
        let mut best: Option<(usize, f32)> = None;
        for part in header.split(',') {
            let mut fields = part.split(';');
            let tag = fields.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = fields.find_map(|f| f.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(i) = LANGUAGES.iter().position(|l| *l == primary)
                && best.is_none_or(|(_, bq)| q > bq)
            {
                best = Some((i, q));
            }
        }
        let i = best.map_or(0, |(i, _)| i);
        Self { bundle: &bundles()[i], lang: LANGUAGES[i] }
    }

    /// The language tag (`fr`, `en`), for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.lang
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with named arguments.
    pub fn ta(&self, id: &str, args: &[(&str, &str)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, FluentValue::from(*v));
        }
        self.format(id, Some(&fa))
    }

    /// A `YYYY-MM-DD` date as people of this language write it.
    pub fn date(&self, iso: &str) -> String {
        match (self.lang, iso.split('-').collect::<Vec<_>>().as_slice()) {
            ("fr", [y, m, d]) => format!("{d}/{m}/{y}"),
            _ => iso.to_owned(),
        }
    }

    /// A Unix time in milliseconds as a date and a time of day, in UTC like every date the
    /// appliance keeps (a school's clock is not trusted for time zones).
    pub fn date_time(&self, ms: i64) -> String {
        let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
        format!("{} {:02}:{:02} UTC", self.date(&crate::platform::clock::date_of_ms(ms)), minutes / 60, minutes % 60)
    }

    /// A `YYYY-MM-DD` date with its weekday, as a page heading says it ("lundi 30 novembre").
    pub fn weekday_date(&self, iso: &str) -> String {
        let Ok(d) = crate::platform::text::date(iso, "error-bad-request") else { return iso.to_owned() };
        let weekday = self.t(&format!("weekday-{}", d.weekday().number_from_monday()));
        let month = self.t(&format!("month-{}", u8::from(d.month())));
        self.ta("date-weekday", &[("weekday", &weekday), ("day", &d.day().to_string()), ("month", &month)])
    }

    /// Whether the message exists (for tests and for optional texts).
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(id, lang = self.lang, "missing localisation message");
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(id, lang = self.lang, ?errors, "localisation message formatting failed");
        }
        text.into_owned()
    }
}

/// Every message id of a language (for the completeness test).
pub fn message_ids(lang: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for name in Files::iter().filter(|n| n.starts_with(&format!("{lang}/")) && n.ends_with(".ftl")) {
        let file = Files::get(&name).expect("listed file");
        let text = String::from_utf8_lossy(&file.data).into_owned();
        let resource = FluentResource::try_new(text).unwrap_or_else(|(_, e)| panic!("{name}: {e:?}"));
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                ids.push(m.id.name.to_owned());
            }
        }
    }
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_is_the_default_and_english_is_negotiated() {
        assert_eq!(Locale::negotiate(None).lang(), "fr");
        assert_eq!(Locale::negotiate(Some("en-GB,en;q=0.9,fr;q=0.8")).lang(), "en");
        assert_eq!(Locale::negotiate(Some("de-DE,fr;q=0.5,en;q=0.4")).lang(), "fr");
        assert_eq!(Locale::negotiate(Some("garbage;;q=x")).lang(), "fr");
    }

    #[test]
    fn both_languages_define_the_same_messages() {
        let fr = message_ids("fr");
        let en = message_ids("en");
        assert!(fr.len() > 20, "{fr:?}");
        let missing_en: Vec<_> = fr.iter().filter(|id| !en.contains(id)).collect();
        let missing_fr: Vec<_> = en.iter().filter(|id| !fr.contains(id)).collect();
        assert!(missing_en.is_empty() && missing_fr.is_empty(), "en lacks {missing_en:?}; fr lacks {missing_fr:?}");
    }
}
