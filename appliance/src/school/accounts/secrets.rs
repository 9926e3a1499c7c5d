//! Making and checking secrets: argon2id password hashes, activation codes, picture
//! sequences and QR-card secrets.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// The pictures a picture secret is made of (files under `ui/static/pictures/`).
pub const PICTURES: [&str; 16] = [
    "cat", "dog", "fish", "bird", "tree", "flower", "sun", "moon", "star", "house", "car", "boat", "apple", "ball",
    "heart", "key",
];
/// Pictures in a picture secret: 16³ = 4,096 sequences, with rate limiting and LAN-only use.
pub const PICTURE_SECRET_LEN: usize = 3;
/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest accepted password (argon2 is costly; nobody types more).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Symbols in an activation code (`XXXX-XXXX-XXXX`).
pub const CODE_LEN: usize = 12;

/// Letters and digits nobody confuses on paper (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

fn random_index(n: usize) -> usize {
    // Rejection sampling keeps every symbol equally likely.
    let limit = u32::MAX - (u32::MAX % n as u32);
    loop {
        let v = u32::from_le_bytes(crate::platform::random_bytes::<4>());
        if v < limit {
            return (v % n as u32) as usize;
        }
    }
}

/// A one-time activation code for a login letter: `XXXX-XXXX-XXXX` (about 59 bits).
pub fn new_activation_code() -> String {
    let chars: Vec<char> = (0..CODE_LEN).map(|_| CODE_ALPHABET[random_index(CODE_ALPHABET.len())] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// What a typed activation code compares as: upper case, no spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Whether `typed` is the activation code `stored`.
pub fn code_matches(typed: &str, stored: &str) -> bool {
    !stored.is_empty() && constant_eq(normalize_code(typed).as_bytes(), normalize_code(stored).as_bytes())
}

/// A random picture sequence, comma-separated.
pub fn new_picture_secret() -> String {
    (0..PICTURE_SECRET_LEN).map(|_| PICTURES[random_index(PICTURES.len())]).collect::<Vec<_>>().join(",")
}

/// A QR-card secret: 32 random bytes, URL-safe hex.
pub fn new_qr_secret() -> String {
    hex::encode(crate::platform::random_bytes::<32>())
}

/// Working memory for one argon2id computation at Préau's parameters (the crate's
/// defaults, m = 19 MiB, t = 2, p = 1), kept and reused from one computation to the next.
/// The server keeps one per argon2 permit ([`crate::school::accounts::argon2`]): freeing 19 MiB
/// after each login left it in whichever thread's malloc arena ran it, and the process
/// grew by that much per blocking thread (ARCHITECTURE.md, "Memory of password checks").
pub struct Argon2Memory(Vec<Block>);

impl Default for Argon2Memory {
    fn default() -> Self {
        Self::new()
    }
}

impl Argon2Memory {
    /// Allocates the memory (19 MiB).
    pub fn new() -> Self {
        Self(vec![Block::new(); Params::DEFAULT.block_count()])
    }

    /// An argon2id hash (PHC string) of `password`, at the default parameters, with a
    /// fresh 16-byte salt: the same string `Argon2::default().hash_password` makes.
    pub fn hash(&mut self, password: &str) -> String {
        let params = Params::DEFAULT;
        let salt = Salt::new(&crate::platform::random_bytes::<{ Salt::RECOMMENDED_LENGTH }>())
            .expect("16 bytes is a valid salt");
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut self.0)
            .expect("argon2 with default parameters cannot fail");
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).expect("default parameters are valid"),
            salt: Some(salt),
            hash: Some(Output::new(&out).expect("32 bytes is a valid output")),
        }
        .to_string()
    }

    /// Whether `password` matches the PHC string `hash` (false for an empty or unreadable
    /// hash), computed with the hash's own algorithm, version and parameters, like the
    /// crate's `PasswordVerifier`. A hash asking for more memory than this one (Préau never
    /// makes one) gets its own allocation, as before.
    pub fn verify(&mut self, password: &str, hash: &str) -> bool {
        self.matches(password, hash).unwrap_or(false)
    }

    fn matches(&mut self, password: &str, hash: &str) -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = parsed.version.map(Version::try_from).transpose().ok()?.unwrap_or_default();
        let params = Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..expected.len())?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let done = if params.block_count() <= self.0.len() {
            argon2.hash_password_into_with_memory(password.as_bytes(), &salt, out, &mut self.0)
        } else {
            argon2.hash_password_into(password.as_bytes(), &salt, out)
        };
        done.ok()?;
        Some(constant_eq(out, expected.as_bytes()))
    }

    /// Spends the time of one verification, so that an unknown login answers as slowly as a
    /// known one.
    pub fn burn(&mut self) {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| self.hash("préau"));
        let _ = self.verify("x", dummy);
    }
}

/// An argon2id hash (PHC string) of `password`, in memory of its own: for one-off uses
/// outside the server's requests (seeding, the command line). The server hashes through
/// [`crate::school::accounts::argon2`].
pub fn hash_password(password: &str) -> String {
    Argon2Memory::new().hash(password)
}

/// Whether `password` matches the PHC string `hash`, in memory of its own (see
/// [`hash_password`]).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2Memory::new().verify(password, hash)
}

/// Fewest guesses a new password must need, as zxcvbn estimates them (its 30,000 common
/// passwords, names, words, dates, repeats, sequences and keyboard rows, and the account's
/// own words). Online, the throttles leave a guesser about 17,500 tries a year
/// (ARCHITECTURE.md): a million is more than 50 years of them.
pub const MIN_GUESSES: u64 = 1_000_000;

/// Checks a new password; the error is a localisation id. `personal` are the words a
/// guesser tries first for this account: its login, the person's names, the school's name.
pub fn check_new_password(password: &str, confirm: &str, login: &str, personal: &[&str]) -> Result<(), &'static str> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err("password-too-short");
    }
    if len > MAX_PASSWORD_LEN {
        return Err("password-too-long");
    }
    if password != confirm {
        return Err("password-mismatch");
    }
    let folded = crate::platform::text::fold(password);
    if folded == crate::platform::text::fold(login) {
        return Err("password-is-login");
    }
    // The account's words (a school's name is several), accents aside: a guesser tries
    // them first, so what is left once they are taken out must be strong on its own.
    let mut words: Vec<String> = vec![crate::platform::text::fold(login), "preau".into(), "ecole".into()];
    for text in personal {
        let text = crate::platform::text::fold(text);
        words.extend(text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 4).map(str::to_owned));
        words.push(text);
    }
    let inputs: Vec<&str> = words.iter().map(String::as_str).collect();
    let guesses = |p: &str| zxcvbn::zxcvbn(p, &inputs);
    let rest = words.iter().filter(|w| w.chars().count() >= 4).fold(folded.clone(), |p, w| p.replace(w.as_str(), ""));
    if rest != folded && (rest.chars().count() < MIN_PASSWORD_LEN / 2 || guesses(&rest).guesses() < MIN_GUESSES) {
        return Err("password-personal");
    }
    // Accents aside, like the account's words (`Léa2026` is `lea2026` to a guesser).
    let estimate = guesses(&folded);
    if estimate.guesses() >= MIN_GUESSES {
        return Ok(());
    }
    use zxcvbn::feedback::Warning;
    Err(match estimate.feedback().and_then(|f| f.warning()) {
        Some(
            Warning::ThisIsATop10Password
            | Warning::ThisIsATop100Password
            | Warning::ThisIsACommonPassword
            | Warning::ThisIsSimilarToACommonlyUsedPassword,
        ) => "password-common",
        Some(
            Warning::RepeatsLikeAaaAreEasyToGuess
            | Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess
            | Warning::SequencesLikeAbcAreEasyToGuess
            | Warning::StraightRowsOfKeysAreEasyToGuess
            | Warning::ShortKeyboardPatternsAreEasyToGuess,
        ) => "password-pattern",
        _ => "password-weak",
    })
}

/// Byte comparison whose time does not depend on where the inputs differ.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("cahier-de-textes");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("cahier-de-textes", &h));
        assert!(!verify_password("cahier-de-texte", &h));
        assert!(!verify_password("anything", ""));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut memory = Argon2Memory::new();
        // Ours, checked by the crate's verifier (with parameters read from the string).
        let ours = memory.hash("cahier-de-textes");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"cahier-de-textes", &parsed).is_ok(), "{ours}");
        assert!(Argon2::default().verify_password(b"cahier-de-texte", &parsed).is_err());
        // The crate's, as stored before this memory was reused: same shape, verified here.
        let theirs = Argon2::default().hash_password(b"cahier-de-textes").unwrap().to_string();
        let shape = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_owned();
        assert_eq!(shape(&ours), shape(&theirs), "{ours} against {theirs}");
        assert!(memory.verify("cahier-de-textes", &theirs));
        assert!(!memory.verify("cahier-de-texte", &theirs), "a wrong password");
        assert!(!memory.verify("cahier-de-textes", &theirs.replace("$argon2id$", "$argon2i$")));
        // A hash stored by the previous code (the crate's `hash_password`), and one at other
        // parameters (less memory, another algorithm and output length).
        let stored =
            "$argon2id$v=19$m=19456,t=2,p=1$vybUmAB/DYlAwrExCGMlqw$S7ZfgRlVcgP1haZffE2xodXjpMPu6lZ8R8FFmF5sGjs";
        assert!(memory.verify("cartable-vert-2026", stored));
        assert!(!memory.verify("cartable-vert-2027", stored));
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(64, 3, 1, Some(16)).unwrap())
            .hash_password(b"autre")
            .unwrap()
            .to_string();
        assert!(memory.verify("autre", &other), "{other}");
        assert!(!memory.verify("Autre", &other));
        // Memory reused after a larger computation still gives the same answers.
        assert!(memory.verify("cahier-de-textes", &ours));
        assert!(verify_password("cahier-de-textes", &hash_password("cahier-de-textes")));
        for broken in ["", "$argon2id$", "argon2id", &ours[..ours.len() - 4]] {
            assert!(!memory.verify("cahier-de-textes", broken), "{broken:?}");
        }
    }

    #[test]
    fn activation_codes_are_readable_and_forgiving_to_type() {
        let code = new_activation_code();
        assert_eq!(code.len(), 14);
        assert!(code.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))), "{code}");
        assert!(code_matches(&code.to_lowercase().replace('-', " "), &code));
        assert!(!code_matches("", ""));
        assert_ne!(new_activation_code(), code);
    }

    #[test]
    fn picture_secrets_use_known_pictures() {
        let s = new_picture_secret();
        assert_eq!(s.split(',').count(), PICTURE_SECRET_LEN);
        assert!(s.split(',').all(|p| PICTURES.contains(&p)));
    }

    #[test]
    fn new_passwords_are_checked() {
        let school = ["Léa", "Martin", "École élémentaire Les Tilleuls"];
        let check = |p: &str| check_new_password(p, p, "lea.martin", &school);
        assert_eq!(check_new_password("court", "court", "a.b", &[]), Err("password-too-short"));
        assert_eq!(check_new_password("assez-long", "assez-lonG", "a.b", &[]), Err("password-mismatch"));
        assert_eq!(check("Lea.Martin"), Err("password-is-login"));
        for common in ["password", "azertyuiop", "123456789", "iloveyou", "sunshine1"] {
            assert_eq!(check(common), Err("password-common"), "{common}");
        }
        for pattern in ["aaaaaaaaaaaa", "abcdefghij", "qwertyuiop123"] {
            assert!(matches!(check(pattern), Err("password-pattern" | "password-common")), "{pattern}");
        }
        for personal in ["tilleuls-2026", "lea.martin2026", "martinlea", "ecole-tilleuls"] {
            assert_eq!(check(personal), Err("password-personal"), "{personal}");
        }
        for good in
            ["cahier-de-textes", "maman-2026", "papa-2026", "pirate-pirate", "mon-nouveau-mdp", "autre-depart-2027"]
        {
            assert_eq!(check(good), Ok(()), "{good}: {} guesses", zxcvbn::zxcvbn(good, &[]).guesses());
        }
    }
}
