//! Replication over an impaired link, as real processes (`cargo bench -p preau-appliance
//! --bench network`; root for network namespaces). Prints numbers for BENCHMARKS.md:
//!
//! 1. a school day's delta (2,700 changes, then 10 photos) over the bad rural profile
//!    (64 kbit/s, 600 ms RTT, 3 % loss): time and bytes on the wire against the physical
//!    floor (bytes ÷ bandwidth);
//! 2. bytes on the wire per change against `gzip -9` of the same changes as JSON;
//! 3. round trips (HTTP requests) per sync for 1, 100 and 10,000 changed documents.

#[path = "../tests/it/common/netlab.rs"]
#[allow(dead_code)]
mod netlab;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use netlab::{BAD_RURAL, LAN, Lab};
use preau_appliance::school::demo::{DEMO_PASSWORD, DEMO_UAI};
use rand::{RngExt, SeedableRng};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn token(&self, login: &str) -> String {
        netlab::token(&self.base, login, DEMO_PASSWORD).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> serde_json::Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let answer = r.json().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }
}

const WORDS: &[&str] = &[
    "lire",
    "la",
    "page",
    "cahier",
    "exercice",
    "poème",
    "apprendre",
    "les",
    "tables",
    "de",
    "multiplication",
    "revoir",
    "leçon",
    "sur",
    "fractions",
    "écrire",
    "phrase",
    "dictée",
    "mots",
    "semaine",
    "histoire",
    "carte",
    "rivière",
    "expérience",
    "graine",
    "observer",
    "dessiner",
    "compter",
    "jusqu'à",
    "cent",
];

fn words(rng: &mut rand::rngs::StdRng, n: usize) -> String {
    (0..n).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn gzip9(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

/// Syncs the school under the link's current profile; returns (seconds, wire bytes, run).
fn measured_sync(lab: &Lab) -> (f64, u64, preau_appliance::replication::links::Run) {
    let link = &lab.links[0];
    let before = link.to_hub.load(Ordering::Relaxed) + link.from_hub.load(Ordering::Relaxed);
    let started = Instant::now();
    let (ok, out) = lab.schools[0].sync_now();
    assert!(ok, "{out}");
    let secs = started.elapsed().as_secs_f64();
    let wire = link.to_hub.load(Ordering::Relaxed) + link.from_hub.load(Ordering::Relaxed) - before;
    (secs, wire, lab.schools[0].runs().remove(0))
}

#[tokio::main]
async fn main() {
    let mut lab = Lab::new(1, LAN).await;
    println!(
        "machine: {} cores; lab: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if lab.netns { "network namespaces" } else { "loopback" }
    );
    lab.start_hub();
    lab.enrol(0, DEMO_UAI);
    lab.schools[0].start(&["--demo"], &[("PREAU_MAX_UPLOAD_BYTES", "33554432")]);
    let api = Api { http: reqwest::Client::new(), base: lab.schools[0].base() };
    let (secs, wire, run) = measured_sync(&lab);
    println!(
        "initial sync (LAN): {secs:.2} s, {wire} B on the wire, {} documents, {} requests",
        run.docs_up, run.requests
    );

    // The day, written through the API in every class (as the director, who may write in
    // each; the demo's teachers partly have activation codes, not passwords): 1,350
    // entries, each edited once.
    let director = api.token("claire.martin").await;
    let tokens: Vec<(String, String)> = lab.schools[0]
        .query("SELECT class_id FROM school_class WHERE archived = 0")
        .into_iter()
        .map(|class| (class, director.clone()))
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let today = preau_appliance::platform::clock::today();
    let mut json = Vec::new();
    let mut ids = Vec::new();
    let started = Instant::now();
    for i in 0..1350 {
        let (class, token) = &tokens[i % tokens.len()];
        let body = serde_json::json!({"subject": "Français", "assigned_on": today, "due_on": today,
            "title": words(&mut rng, 6), "details": words(&mut rng, 25)});
        let id =
            api.send(reqwest::Method::POST, token, &format!("/api/v1/classes/{class}/homework"), &body).await["id"]
                .as_str()
                .unwrap()
                .to_owned();
        json.push(serde_json::json!({"op": "create", "class": class, "id": id, "entry": body}));
        let edit = serde_json::json!({"subject": "Français", "assigned_on": today, "due_on": today,
            "title": body["title"], "details": format!("{} {}", body["details"].as_str().unwrap(), words(&mut rng, 5))});
        api.send(reqwest::Method::PUT, token, &format!("/api/v1/classes/{class}/homework/{id}"), &edit).await;
        json.push(serde_json::json!({"op": "edit", "class": class, "id": id, "entry": edit}));
        ids.push((class.clone(), token.clone(), id));
    }
    println!("school day: 2,700 changes made through the API in {:.1} s", started.elapsed().as_secs_f64());
    let baseline = gzip9(&serde_json::to_vec(&json).unwrap());

    lab.links[0].shape(BAD_RURAL);
    let (secs, wire, run) = measured_sync(&lab);
    let floor = wire as f64 * 8.0 / 64_000.0;
    println!(
        "day's changes over {}: {secs:.1} s, {wire} B on the wire (HTTP payloads {} B), floor {floor:.1} s → {:.2}× the floor; \
         {} requests",
        BAD_RURAL.name,
        run.bytes_up + run.bytes_down,
        secs / floor,
        run.requests
    );
    println!(
        "bytes per change: {:.1} on the wire vs {:.1} for gzip -9 of the JSON ({baseline} B) → {:.2}×",
        wire as f64 / 2700.0,
        baseline as f64 / 2700.0,
        wire as f64 / baseline as f64
    );

    // Ten photos (incompressible, like JPEG), 150 KB each, on ten entries.
    lab.links[0].shape(LAN);
    for (class, token, id) in ids.iter().take(10) {
        let photo: Vec<u8> = (0..150_000).map(|_| rng.random()).collect();
        let form = reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(photo).file_name("photo.jpg").mime_str("image/jpeg").unwrap(),
        );
        let status = api
            .http
            .post(format!("{}/api/v1/classes/{class}/homework/{id}/files", api.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());
    }
    lab.links[0].shape(BAD_RURAL);
    let (secs, wire, run) = measured_sync(&lab);
    let floor = wire as f64 * 8.0 / 64_000.0;
    println!(
        "10 photos (1.5 MB) over {}: {secs:.1} s, {wire} B on the wire, floor {floor:.1} s → {:.2}× the floor; {} requests, {} files",
        BAD_RURAL.name,
        secs / floor,
        run.requests,
        run.files_up
    );

    // Round trips per sync, whatever the number of changed documents.
    lab.links[0].shape(LAN);
    for n in [1usize, 100, 10_000] {
        for k in 0..n {
            let body =
                serde_json::json!({"place": "staff", "title": format!("Note {n}-{k}"), "body": words(&mut rng, 12)});
            api.send(reqwest::Method::POST, &director, "/api/v1/news", &body).await;
        }
        let (secs, wire, run) = measured_sync(&lab);
        println!(
            "{n} changed documents (LAN): {} requests ({} documents up), {wire} B, {secs:.2} s",
            run.requests, run.docs_up
        );
    }
}
