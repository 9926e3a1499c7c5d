//! User-facing text: Fluent files under `ui/locales/<lang>/`, embedded in the binary.
//! French is complete and the default; English is present. Pages speak the language the
//! browser asks for ([`Locale::negotiate`]); the command line speaks the one of its
//! environment ([`Locale::from_env`]).

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
        Self::of(0)
    }
}

impl Locale {
    /// The language `LANGUAGES[i]`.
    fn of(i: usize) -> Self {
        Self { bundle: &bundles()[i], lang: LANGUAGES[i] }
    }

    /// The command line's language, read from the environment as POSIX programs read the
    /// language of their messages: the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that is
    /// set and not empty names the locale. English when that name starts with `en`
    /// (`en_GB.UTF-8`, `en`), French otherwise (`fr_FR.UTF-8`, `C.UTF-8`, `POSIX`, nothing
    /// set). What `preau` prints — its commands, and the server's lines at start — speaks it.
    pub fn from_env() -> Self {
        Self::from_env_vars(|name| std::env::var(name).ok())
    }

    /// [`Locale::from_env`] over any environment (`var` answers a variable's value).
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let name = ["LC_ALL", "LC_MESSAGES", "LANG"].into_iter().find_map(|k| var(k).filter(|v| !v.is_empty()));
        let english = name.is_some_and(|n| n.to_ascii_lowercase().starts_with("en"));
        Self::of(if english { LANGUAGES.iter().position(|l| *l == "en").unwrap_or(0) } else { 0 })
    }

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
        Self::of(best.map_or(0, |(i, _)| i))
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
    fn the_command_line_speaks_english_only_when_its_locale_says_so() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            Locale::from_env_vars(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())).lang()
        };
        assert_eq!(env(&[]), "fr");
        assert_eq!(env(&[("LANG", "C.UTF-8")]), "fr");
        assert_eq!(env(&[("LANG", "POSIX")]), "fr");
        assert_eq!(env(&[("LANG", "fr_FR.UTF-8")]), "fr");
        assert_eq!(env(&[("LANG", "de_DE.UTF-8")]), "fr");
        assert_eq!(env(&[("LANG", "en_GB.UTF-8")]), "en");
        assert_eq!(env(&[("LANG", "en")]), "en");
        // LC_ALL, then LC_MESSAGES, then LANG; an empty one does not count.
        assert_eq!(env(&[("LC_ALL", "en_US.UTF-8"), ("LANG", "fr_FR.UTF-8")]), "en");
        assert_eq!(env(&[("LC_ALL", "fr_FR.UTF-8"), ("LC_MESSAGES", "en_US.UTF-8")]), "fr");
        assert_eq!(env(&[("LC_MESSAGES", "en_US.UTF-8"), ("LANG", "fr_FR.UTF-8")]), "en");
        assert_eq!(env(&[("LC_ALL", ""), ("LANG", "en_IE.UTF-8")]), "en");
        assert_eq!(env(&[("LC_ALL", "C"), ("LANG", "en_IE.UTF-8")]), "fr");
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
