//! Importing ONDE extractions, from the director's page and from `preau import onde`:
//! preview, apply, re-import, next year, and files with errors that change nothing.

use crate::common::{self, Browser, set_up_school};
use preau_appliance::school::directory::Profile;
use reqwest::StatusCode;

const PUPILS_HEADER: &str = "Nom Elève;Nom d'usage Elève;Prénom Elève;Date naissance;Sexe;Adresse1;Cp1;Commune1;Pays1;Adresse2;Cp2;Commune2;Pays2;\" Cycle\";Niveau;Classe;Attestation fournie;Autorisations associations;Autorisations photos;Décision de passage";

fn pupil(last: &str, first: &str, born: &str, sex: &str, level: &str, class: &str, photos: &str) -> String {
    format!(
        "{last};;{first};{born};{sex};12 rue des Tilleuls;77990;Saint-Aubin-des-Prés;FRANCE;;;;;CYCLE II;{level};{class};Oui;Oui;{photos};"
    )
}

/// This year's pupils, as ONDE exports them: Windows-1252, CRLF.
fn pupils_2026() -> Vec<u8> {
    let rows = [
        PUPILS_HEADER.to_owned(),
        pupil("MARTINEAU", "Léonie", "14/03/2020", "F", "CP", "CP", "Oui"),
        pupil("FRANÇOIS", "Anaïs", "02/11/2019", "F", "CE1", "CE1-CE2", "Non"),
        pupil("FRANÇOIS", "Timothée", "21/06/2020", "M", "CP", "CP", "Oui"),
        pupil("LEFÈVRE", "Noël", "2018-05-06", "M", "CE2", "CE1-CE2", ""),
    ];
    let text = rows.join("\r\n") + "\r\n";
    encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
}

/// Next year's pupils: everyone moved up, in UTF-8 this time.
fn pupils_2027() -> Vec<u8> {
    let rows = [
        PUPILS_HEADER.to_owned(),
        pupil("MARTINEAU", "Léonie", "14/03/2020", "F", "CE1", "CE1-CE2", "Oui"),
        pupil("FRANÇOIS", "Anaïs", "2019-11-02", "F", "CE2", "CE1-CE2", "Non"),
        pupil("FRANÇOIS", "Timothée", "21/06/2020", "M", "CE1", "CE1-CE2", "Oui"),
        pupil("LEFÈVRE", "Noël", "06/05/2018", "M", "CM1", "CM1", "Oui"),
    ];
    (rows.join("\n") + "\n").into_bytes()
}

fn teachers() -> Vec<u8> {
    "Civilité;Nom usage;Nom;Prénom;Adresse;CP;Commune;Pays;Courriel;Téléphone domicile;Téléphone portable;Directeur;Classe\n\
     Mme;ROCHER;ROCHER;Sylvie;;;;;sylvie.rocher@example.org;;;Non;CP\n\
     M.;AUBRY;AUBRY;Thomas;;;;;thomas.aubry@example.org;;;Non;CE1-CE2\n"
        .as_bytes()
        .to_vec()
}

/// Guardians: two households for Léonie, one mother of two children in two classes.
fn guardians() -> Vec<u8> {
    let header = "Civilité Responsable;Nom usage responsable;Nom responsable;Prénom responsable;Adresse responsable;CP responsable;Commune responsable;Pays;Courriel;Téléphone domicile;Téléphone travail;Téléphone portable;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants";
    [
        header,
        "M.;MARTINEAU;MARTINEAU;Olivier;12 rue des Tilleuls;77990;Saint-Aubin-des-Prés;FRANCE;olivier.martineau@example.org;;;06 00 00 00 01;MARTINEAU;MARTINEAU;Léonie;CP",
        "Mme;DESCHAMPS;DESCHAMPS;Claire;27 avenue de la Gare;77990;Saint-Aubin-des-Prés;FRANCE;claire.deschamps@example.org;;;;MARTINEAU;MARTINEAU;Léonie;CP;;;;",
        "Mme;FRANÇOIS;FRANÇOIS;Hélène;3 allée des Érables;77990;Saint-Aubin-des-Prés;FRANCE;helene.francois@example.org;;;;FRANÇOIS;FRANÇOIS;Anaïs;CE1-CE2;FRANÇOIS;FRANÇOIS;Timothée;CP",
        "M.;LEFÈVRE;LEFÈVRE;Marc;;;;;marc.lefevre@example.org;;;;LEFÈVRE;LEFÈVRE;Noël;CE1-CE2",
    ]
    .join("\r\n")
    .into_bytes()
}

/// The director opens these classes to their families, from their pages.
async fn open_to_families(director: &mut Browser, classes: &[preau_appliance::school::directory::Class]) {
    for class in classes {
        let page = director.get(&format!("/classes/{}", class.id)).await;
        assert!(page.contains("pas encore ouverte aux familles"), "{}", page.body);
        director.post(&format!("/classes/{}/families", class.id), &[("open", "1")]).await;
        assert!(
            director.get(&format!("/classes/{}", class.id)).await.contains("Cette classe est ouverte aux familles")
        );
    }
}

fn token_in(body: &str) -> Option<String> {
    let i = body.find("name=\"token\" value=\"")? + "name=\"token\" value=\"".len();
    Some(body[i..].chars().take_while(|c| *c != '"').collect())
}

#[tokio::test]
async fn the_director_previews_then_imports_and_reimporting_changes_nothing() {
    let (server, mut b) = set_up_school().await;
    let people_before = server.directory().people.len();
    let files = [("enseignants.csv", teachers()), ("responsables.csv", guardians()), ("eleves.csv", pupils_2026())];

    // 1. Preview: what will be created, and nothing is written yet.
    let preview = b.post_files("/admin/import", &[("year", "2026-2027")], &files).await;
    preview.assert_ok();
    assert!(preview.contains("Élève Léonie MARTINEAU — CP"), "{}", preview.body);
    assert!(preview.contains("Classe CE1-CE2 (2026-2027)"));
    assert!(preview.contains("Responsable Hélène FRANÇOIS"));
    assert_eq!(server.directory().people.len(), people_before, "a preview writes nothing");
    let token = token_in(&preview.body).expect("an apply button");

    // 2. Apply.
    let done = b.post("/admin/import/apply", &[("token", &token)]).await;
    done.assert_ok();
    assert!(done.contains("Import terminé"));
    // Imported classes start closed to their families: the school opens them.
    let imported = server.directory().current_classes().into_iter().cloned().collect::<Vec<_>>();
    assert!(imported.iter().all(|c| !c.class.families_open));
    let some_parent = server.directory().people.values().find(|m| m.profile == Profile::Parent).unwrap().clone();
    assert!(server.directory().children_of(&some_parent.id).is_empty(), "no family on the ENT yet");
    open_to_families(&mut b, &imported).await;
    let dir = server.directory();
    let count = |p: Profile| dir.people.values().filter(|m| m.profile == p).count();
    assert_eq!((count(Profile::Pupil), count(Profile::Parent), count(Profile::Teacher)), (4, 4, 2));
    let cp = dir.current_classes().into_iter().find(|c| c.class.name == "CP").unwrap().clone();
    let ce = dir.current_classes().into_iter().find(|c| c.class.name == "CE1-CE2").unwrap().clone();
    assert_eq!(ce.class.levels, ["CE1", "CE2"], "a multi-level class");
    let leonie = dir.pupils_of(&cp.id).into_iter().find(|p| p.person.first_name == "Léonie").unwrap().clone();
    assert_eq!(leonie.person.birth_date, "2020-03-14");
    assert_eq!(leonie.person.photo_consent, Some(true));
    assert_eq!(dir.guardians_of(&leonie.id).len(), 2, "two households, two legal guardians");
    let anais = dir.pupils_of(&ce.id).into_iter().find(|p| p.person.first_name == "Anaïs").unwrap().clone();
    assert_eq!(anais.person.photo_consent, Some(false), "photo refusal is kept");
    let helene = dir.people.values().find(|m| m.person.first_name == "Hélène").unwrap();
    assert_eq!(dir.children_of(&helene.id).len(), 2, "one parent, children in two classes");
    let rocher = dir.people.values().find(|m| m.person.last_name == "ROCHER").unwrap();
    assert_eq!(dir.classes_taught_by(&rocher.id)[0].class.name, "CP");
    assert!(dir.credentials[&leonie.id].picture_secret.split(',').count() == 3, "pupils get pictures");
    assert!(!dir.credentials[&helene.id].activation_code.is_empty(), "parents get an activation code");

    // 3. The same files again: nothing to do, no button.
    let again = b.post_files("/admin/import", &[("year", "2026-2027")], &files).await;
    again.assert_ok();
    assert!(again.contains("Tout est déjà à jour"), "{}", again.body);
    assert!(token_in(&again.body).is_none());
    assert_eq!(server.directory().people.len(), dir.people.len());

    // 4. Next year's pupils: the same people, new classes, last year's archived.
    let next = b.post_files("/admin/import", &[("year", "2027-2028")], &[("eleves-2027.csv", pupils_2027())]).await;
    next.assert_ok();
    b.post("/admin/import/apply", &[("token", &token_in(&next.body).unwrap())]).await.assert_ok();
    open_to_families(&mut b, &server.directory().current_classes().into_iter().cloned().collect::<Vec<_>>()).await;
    let dir = server.directory();
    assert_eq!(dir.people.values().filter(|m| m.profile == Profile::Pupil).count(), 4, "nobody duplicated");
    let classes: Vec<_> =
        dir.current_classes().iter().map(|c| (c.class.name.clone(), c.class.school_year.clone())).collect();
    assert_eq!(classes, [("CE1-CE2".into(), "2027-2028".into()), ("CM1".into(), "2027-2028".into())]);
    assert_eq!(dir.classes.values().filter(|c| c.class.archived).count(), 2, "last year's classes are kept, archived");
    let leonie_now = dir.member(&leonie.id).unwrap();
    assert_eq!(leonie_now.person.level, "CE1");
    assert_eq!(dir.class_of(leonie_now).unwrap().class.name, "CE1-CE2");
    assert_eq!(dir.guardians_of(&leonie.id).len(), 2, "guardianships survive the year change");
    assert_eq!(dir.credentials[&leonie.id], server.directory().credentials[&leonie.id]);
}

#[tokio::test]
async fn a_file_with_errors_imports_nothing_and_lists_every_error_with_its_line() {
    let (server, mut b) = set_up_school().await;
    let before = server.directory().people.len();
    let bad_pupils = [
        PUPILS_HEADER.to_owned(),
        pupil("MARTINEAU", "Léonie", "31/02/2020", "F", "CP", "CP", "Oui"),
        pupil("ROUSSEL", "Maël", "05/09/2019", "X", "CP", "CP", "Peut-être"),
        pupil("ROUSSEL", "Maël", "05/09/2019", "M", "CP", "CP", "Oui"),
        pupil("ROUSSEL", "Maël", "05/09/2019", "M", "CP", "CP", "Oui"),
    ]
    .join("\n");
    let page = b
        .post_files(
            "/admin/import",
            &[("year", "2026-2027")],
            &[("eleves.csv", bad_pupils.into_bytes()), ("enseignants.csv", teachers())],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    for expected in [
        "eleves.csv, ligne 2",
        "31/02/2020",
        "eleves.csv, ligne 3",
        "« X »",
        "Peut-être",
        "eleves.csv, ligne 5",
        "ligne 4",
        "Aucun changement n&#39;a été fait",
    ] {
        assert!(page.contains(expected), "missing {expected:?}:\n{}", page.body);
    }
    assert!(token_in(&page.body).is_none());

    // Files that parse but do not fit the school: unknown class, unknown child.
    let page =
        b.post_files("/admin/import", &[], &[("enseignants.csv", teachers()), ("responsables.csv", guardians())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("La classe « CP » n&#39;existe pas") || page.contains("La classe « CP » n'existe pas"),
        "{}",
        page.body
    );
    assert!(page.contains("enseignants.csv, ligne 2") && page.contains("responsables.csv, ligne 2"));

    // Not a CSV at all, and an empty upload.
    let page = b.post_files("/admin/import", &[], &[("photo.png", vec![0x89, b'P', b'N', b'G', 0, 0, 0, 13])]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let page = b.post_files("/admin/import", &[], &[("vide.csv", Vec::new())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Aucun fichier"));
    assert_eq!(server.directory().people.len(), before, "nothing was imported");

    // A forged token and a teacher are refused.
    let mut forged = b.post_files("/admin/import", &[], &[("eleves.csv", pupils_2026())]).await;
    forged.assert_ok();
    b.csrf = "forged".into();
    forged = b.post_files("/admin/import", &[], &[("eleves.csv", pupils_2026())]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(server.directory().people.len(), before);
}

#[tokio::test]
async fn an_upload_larger_than_the_limit_is_refused() {
    let server = common::TestServer::start(false, |c| c.max_upload_bytes = 64 * 1024).await;
    let mut b = server.browser();
    b.get("/setup").await;
    let fields = [
        ("uai", "0351234A"),
        ("name", "École"),
        ("commune", "Plouër"),
        ("first_name", "Anne"),
        ("last_name", "Riou"),
        ("password", "cartable-vert-2026"),
        ("confirm", "cartable-vert-2026"),
    ];
    b.post("/setup", &fields).await;
    b.get("/admin/import").await.assert_ok();
    let big = vec![b'a'; 200 * 1024];
    let page = b.post_files("/admin/import", &[], &[("eleves.csv", big)]).await;
    assert!(page.status == StatusCode::BAD_REQUEST || page.status == StatusCode::PAYLOAD_TOO_LARGE, "{}", page.status);
    assert_eq!(server.directory().people.len(), 1);
}

#[test]
fn the_command_line_previews_then_applies() {
    let data = tempfile::tempdir().unwrap();
    let preau = env!("CARGO_BIN_EXE_preau");
    // A school to import into: the demo one.
    {
        let config = preau_appliance::platform::config::Config::load(Some(data.path().into()), |_| None).unwrap();
        preau_appliance::app::open(config, true).unwrap();
    }
    let file = data.path().join("eleves.csv");
    std::fs::write(&file, pupils_2026()).unwrap();
    // The command speaks the language of LC_ALL, LC_MESSAGES or LANG: French unless English.
    let run_in = |lang: &str, args: &[&str]| {
        let out = std::process::Command::new(preau)
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", lang)
            .args(["--data-dir", data.path().to_str().unwrap(), "import", "onde"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let run = |args: &[&str]| run_in("fr_FR.UTF-8", args);
    let f = file.to_str().unwrap();
    let (ok, out, err) = run_in("en_GB.UTF-8", &[f, "--year", "2026-2027"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("What the import will do")
            && out.contains("Pupil Léonie MARTINEAU")
            && out.contains("(add --apply to import)"),
        "{out}"
    );
    let (ok, out, err) = run(&[f, "--year", "2026-2027"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Ce que l'import va faire")
            && out.contains("Élève Léonie MARTINEAU")
            && out.contains("(ajoutez --apply pour importer)"),
        "{out}"
    );
    let (ok, out, _) = run(&[f, "--year", "2026-2027", "--apply"]);
    assert!(ok);
    assert!(out.contains("Ce que l'import a fait"), "{out}");
    let (ok, out, _) = run(&[f, "--year", "2026-2027"]);
    assert!(ok);
    assert!(out.contains("Créations : 0") && out.contains("Inchangés : 4"), "{out}");
    std::fs::write(&file, "Nom;Prénom;Date de naissance;Sexe\nDUPONT;Jean;32/13/2019;M\n").unwrap();
    let (ok, _, err) = run(&[f, "--apply"]);
    assert!(!ok, "a file with errors fails");
    assert!(err.contains("eleves.csv, ligne 2 : ") && err.contains("32/13/2019"), "{err}");
    let (ok, _, err) = run_in("en_GB.UTF-8", &[f, "--apply"]);
    assert!(!ok && err.contains("eleves.csv, line 2: ") && err.contains("32/13/2019"), "{err}");

    // `preau import onde … | head`: the reader is gone before the first line.
    std::fs::write(&file, pupils_2026()).unwrap();
    let mut child = std::process::Command::new(preau)
        .args(["--data-dir", data.path().to_str().unwrap(), "import", "onde", f, "--year", "2026-2027"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("panicked"), "{:?} {err}", out.status);
}

#[tokio::test]
async fn names_from_a_file_are_text_never_markup() {
    let (server, mut b) = set_up_school().await;
    let csv = "Nom;Prénom;Date de naissance;Sexe;Classe;Niveau\n\
               <img src=x onerror=alert(1)>;\"<script>alert('x')</script>\";01/02/2019;M;CP <b>1</b>;CP\n";
    let preview = b.post_files("/admin/import", &[], &[("liste.csv", csv.as_bytes().to_vec())]).await;
    preview.assert_ok();
    assert!(!preview.contains("<script>alert") && !preview.contains("<img src=x"), "{}", preview.body);
    assert!(
        preview.contains("&#60;script&#62;") || preview.contains("&lt;script&gt;"),
        "shown as text: {}",
        preview.body
    );
    b.post("/admin/import/apply", &[("token", &token_in(&preview.body).unwrap())]).await.assert_ok();
    let class = server.directory().current_classes()[0].id.clone();
    for path in [format!("/classes/{class}"), format!("/letters/class/{class}/pupils"), "/admin/accounts".into()] {
        let page = b.get(&path).await;
        page.assert_ok();
        assert!(
            !page.contains("<script>alert") && !page.contains("<img src=x") && !page.contains("<b>1</b>"),
            "{path}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn imports_never_guess_whose_child_or_parent_and_keep_what_they_do_not_carry() {
    let (server, mut b) = set_up_school().await;
    // Two pupils called Léo MARTIN, in two classes; their mothers are both Marie MARTIN.
    let pupils = [
        PUPILS_HEADER.to_owned(),
        pupil("MARTIN", "Léo", "01/02/2020", "M", "CP", "CP", "Non"),
        pupil("MARTIN", "Léo", "03/04/2018", "M", "CE2", "CE1-CE2", "Oui"),
        pupil("DURAND", "Zoé", "05/06/2019", "F", "CE1", "CE1-CE2", "Non"),
        // And two Jade ROUX in one class.
        pupil("ROUX", "Jade", "07/08/2018", "F", "CE2", "CE1-CE2", "Oui"),
        pupil("ROUX", "Jade", "09/10/2018", "F", "CE2", "CE1-CE2", "Oui"),
    ]
    .join("\n");
    let preview =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("eleves.csv", pupils.clone().into_bytes())]).await;
    b.post("/admin/import/apply", &[("token", &token_in(&preview.body).unwrap())]).await.assert_ok();

    let header = "Civilité Responsable;Nom usage responsable;Nom responsable;Prénom responsable;Adresse responsable;CP responsable;Commune responsable;Pays;Courriel;Téléphone domicile;Téléphone travail;Téléphone portable;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants";
    // 1. Homonym mothers in one file stay two people, each with her own child.
    let guardians = format!(
        "{header}\nMme;MARTIN;MARTIN;Marie;;;;;;;;;MARTIN;MARTIN;Léo;CP\nMme;MARTIN;MARTIN;Marie;;;;;;;;;MARTIN;MARTIN;Léo;CE1-CE2\n"
    );
    let preview =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("responsables.csv", guardians.into_bytes())]).await;
    b.post("/admin/import/apply", &[("token", &token_in(&preview.body).unwrap())]).await.assert_ok();
    open_to_families(&mut b, &server.directory().current_classes().into_iter().cloned().collect::<Vec<_>>()).await;
    let dir = server.directory();
    let maries: Vec<_> = dir.people.values().filter(|m| m.person.first_name == "Marie").collect();
    assert_eq!(maries.len(), 2, "two accounts");
    for marie in maries {
        assert_eq!(dir.children_of(&marie.id).len(), 1, "each sees her own child only");
    }

    // 2. A child row without a class, matching two pupils: refused, nothing linked.
    let ambiguous = format!("{header}\nM.;MARTIN;MARTIN;Paul;;;;;;;;;MARTIN;MARTIN;Léo;\n");
    let page =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("responsables.csv", ambiguous.into_bytes())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("Plusieurs élèves de l&#39;école s&#39;appellent Léo MARTIN")
            && page.contains("écrivez la classe de l&#39;enfant dans la colonne « Classes enfants »"),
        "{}",
        page.body
    );

    // 2b. Homonyms in one class: the file cannot tell them apart; the director is told to
    // import the rest without this line.
    let homonyms = format!("{header}\nMme;ROUX;ROUX;Anne;;;;;;;;;ROUX;ROUX;Jade;CE1-CE2\n");
    let page =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("responsables.csv", homonyms.into_bytes())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Retirez cette ligne du fichier pour importer le reste"), "{}", page.body);

    // 3. A simple list of the same pupils keeps their classes and photo consent.
    let simple = "Nom;Prénom;Date de naissance;Sexe\nDURAND;Zoé;05/06/2019;F\n";
    let preview =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("liste.csv", simple.as_bytes().to_vec())]).await;
    assert!(token_in(&preview.body).is_none(), "nothing to change: {}", preview.body);
    let zoe = server.directory().people.values().find(|m| m.person.first_name == "Zoé").unwrap().clone();
    assert_eq!(zoe.person.photo_consent, Some(false));
    assert!(!zoe.person.class_id.is_empty());

    // 4. A full extraction without Zoé: she left; her account is archived and closed.
    let without_zoe = pupils.lines().filter(|l| !l.contains("DURAND")).collect::<Vec<_>>().join("\n");
    let preview =
        b.post_files("/admin/import", &[("year", "2026-2027")], &[("eleves.csv", without_zoe.into_bytes())]).await;
    assert!(
        preview.contains("Élève Zoé DURAND : absent de l&#39;extraction") || preview.contains("absent de l'extraction"),
        "{}",
        preview.body
    );
    b.post("/admin/import/apply", &[("token", &token_in(&preview.body).unwrap())]).await.assert_ok();
    let dir = server.directory();
    assert!(dir.member(&zoe.id).unwrap().person.archived);
    let class = zoe.person.class_id.clone();
    let mut tablet = server.tablet(&class);
    assert_eq!(tablet.get(&format!("/classes/{class}/login/{}", zoe.id)).await.status, StatusCode::NOT_FOUND);
}
