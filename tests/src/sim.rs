//! A deterministic, seeded simulation of Préau replicas syncing over a faulty network.
//!
//! Four named replicas — `hub`, `school_a`, `school_b`, `teacher_laptop` — edit documents
//! of their own scopes and run real sync sessions ([`Session`]) whose messages travel
//! through a simulated network that drops, duplicates, reorders and delays them, while
//! replicas crash (their in-memory state is lost; they restart from their SQLite file).
//! Then the network heals, sessions run until nothing moves, and [`check`] verifies:
//! identical heads, identical read models, no acknowledged write lost, nothing outside a
//! replica's partitions, and that re-applying any bundle changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use preau_sync::kinds::conversation::{Conversation, Message as ChatMessage};
use preau_sync::kinds::homework::{HomeworkBook, HomeworkEntry};
use preau_sync::kinds::news::NewsPost;
use preau_sync::replication::{Bundle, Message, OpenPolicy, Session, SessionStats};
use preau_sync::{
    CatalogEntry, DocAddress, DocId, DocKey, Error, Kind, LocalId, Partition, Scope, ScopeRule, Store, Uai,
};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// How hostile the run is.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Steps of the random phase.
    pub steps: usize,
    /// Probability that a message is lost.
    pub drop: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Largest delivery delay, in steps (messages overtake each other).
    pub max_delay: u64,
    /// Probability, per step, that a replica crashes and restarts.
    pub crash: f64,
    /// Probability, per step, that a replica takes a backup or, if it has one, is restored
    /// from it (losing whatever it wrote since and had not synced).
    pub restore: f64,
    /// Probability, per step, that the teacher's laptop is given one more class (its scope
    /// grows: it must then receive that class's older documents too).
    pub grow_scope: f64,
    /// A deliberate fault, to prove the checks can fail.
    pub sabotage: Option<Sabotage>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            steps: 160,
            drop: 0.1,
            duplicate: 0.1,
            max_delay: 6,
            crash: 0.02,
            restore: 0.01,
            grow_scope: 0.005,
            sabotage: None,
        }
    }
}

/// Deliberate faults that a correct harness must catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sabotage {
    /// The network silently removes the last document of every bundle sent to `school_b`
    /// (and re-frames it, so checksums still pass).
    StripBundlesToSchoolB,
    /// A row of the hub's read models is deleted behind the store's back after quiescence.
    TamperHubReadModel,
}

/// Why a run failed, with what it takes to reproduce it.
#[derive(Debug)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// What went wrong.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "simulation seed {} failed: {}\n  reproduce: PREAU_SIM_SEED={} cargo test -p preau-tests --test it simulation:: -- --nocapture",
            self.seed, self.reason, self.seed
        )
    }
}

/// What a run did (to show the faults were exercised).
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Local writes committed.
    pub writes: usize,
    /// Sessions started.
    pub sessions: usize,
    /// Sessions that ran to the end during the faulty phase.
    pub completed: usize,
    /// Messages dropped, duplicated.
    pub dropped: usize,
    /// Messages duplicated.
    pub duplicated: usize,
    /// Replica crashes.
    pub crashes: usize,
    /// Replicas restored from an older backup.
    pub restores: usize,
    /// Sessions that repaired a divergence by comparing full catalogs.
    pub reconciliations: usize,
    /// Times the laptop's scope grew.
    pub scope_changes: usize,
    /// Bundles cut short by a small budget.
    pub partial_bundles: usize,
    /// Bundles applied (and re-applied at the end).
    pub bundles: usize,
    /// Sessions needed to quiesce.
    pub quiesce_sessions: usize,
}

const NAMES: [&str; 4] = ["hub", "school_a", "school_b", "teacher_laptop"];
const HUB: usize = 0;
const SCHOOL_B: usize = 2;
const LAPTOP: usize = 3;
/// Rounds of reliable syncs on every link before the harness gives up on quiescence (small
/// bundle budgets need several).
const QUIESCE_ROUNDS: usize = 40;
/// Who syncs with whom (initiator, responder).
const LINKS: [(usize, usize); 4] = [(1, 0), (2, 0), (3, 1), (3, 0)];

fn uai(n: u8) -> Uai {
    Uai::parse(&format!("034000{n}A")).expect("valid UAI")
}

fn local(id: &str) -> LocalId {
    LocalId::parse(id).expect("valid local id")
}

fn scopes() -> [Scope; 4] {
    let a = uai(1);
    [
        Scope::all(),
        Scope::new(vec![ScopeRule::School(a.clone()), ScopeRule::Exact(Partition::Academy)]),
        Scope::new(vec![ScopeRule::School(uai(2)), ScopeRule::Exact(Partition::Academy)]),
        Scope::new(vec![
            ScopeRule::Exact(Partition::Class(a.clone(), local("cm1"))),
            ScopeRule::Exact(Partition::Class(a.clone(), local("ce2"))),
            ScopeRule::Exact(Partition::Pupil(a, local("p1"))),
        ]),
    ]
}

/// Every partition documents are written in.
fn partitions() -> Vec<Partition> {
    let (a, b) = (uai(1), uai(2));
    let mut out = vec![Partition::Academy, Partition::School(a.clone()), Partition::School(b.clone())];
    for c in ["cp", "ce2", "cm1"] {
        out.push(Partition::Class(a.clone(), local(c)));
    }
    for c in ["cp", "cm2"] {
        out.push(Partition::Class(b.clone(), local(c)));
    }
    out.push(Partition::Staff(a.clone()));
    out.push(Partition::Pupil(a.clone(), local("p1")));
    out.push(Partition::Pupil(a, local("p2")));
    out
}

fn address(partition: &Partition, kind: Kind, key: &str) -> DocAddress {
    DocAddress::new(partition.clone(), kind, DocKey::parse(key).expect("valid key"))
}

/// A write whose `change` returned Ok: it must survive everything.
#[derive(Clone, Debug)]
enum Write {
    Entry { doc: DocId, entry: String, title: String },
    Retitle { doc: DocId, entry: String, title: String },
    Message { doc: DocId, message: String },
    News { doc: DocId, title: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Initiator,
    Responder,
}

struct Envelope {
    to: usize,
    from: usize,
    session: u64,
    role: Role,
    deliver_at: u64,
    bytes: Vec<u8>,
}

struct Replica {
    path: PathBuf,
    scope: Scope,
    store: Store,
    sessions: BTreeMap<u64, Session>,
    /// A backup file and the step it was taken at.
    backup: Option<(PathBuf, u64)>,
    /// A small bundle budget, for replicas on slow links.
    bundle_budget: Option<usize>,
}

impl Replica {
    fn open(path: PathBuf, scope: Scope) -> Result<Self, Error> {
        let store = Store::open(&path, scope.clone())?;
        Ok(Self { path, scope, store, sessions: BTreeMap::new(), backup: None, bundle_budget: None })
    }

    /// Reopens the replica's store (a crash, a restore, a new scope), keeping its settings.
    fn reopen(&mut self, path: PathBuf, scope: Scope) -> Result<(), String> {
        let store = Store::open(&path, scope.clone()).map_err(|e| format!("reopen: {e}"))?;
        // The old store (and its connection) goes first.
        self.store = store;
        (self.path, self.scope) = (path, scope);
        self.sessions.clear();
        self.apply_budget();
        Ok(())
    }

    fn apply_budget(&mut self) {
        if let Some(bytes) = self.bundle_budget {
            self.store.set_bundle_budget(bytes);
        }
    }
}

struct World {
    cfg: SimConfig,
    rng: ChaCha8Rng,
    replicas: Vec<Replica>,
    network: Vec<Envelope>,
    now: u64,
    next_session: u64,
    /// Committed writes: by whom, at which step, what.
    writes: Vec<(usize, u64, Write)>,
    /// Every bundle applied, with its recipient and the sender's scope, for the replay check.
    applied: Vec<(usize, Bundle, Scope)>,
    /// Counters of sessions that ran to their end (both sides).
    finished: Vec<SessionStats>,
    /// Per replica: (step of a restore, step its backup was taken).
    rewinds: Vec<Vec<(u64, u64)>>,
    report: Report,
}

/// Runs one seeded simulation in `dir` (which must be empty).
pub fn run(seed: u64, cfg: &SimConfig, dir: &Path) -> Result<Report, Failure> {
    let fail = |reason: String| Failure { seed, reason };
    let mut world = World::new(seed, cfg.clone(), dir).map_err(|e| fail(format!("setup: {e}")))?;
    for step in 0..cfg.steps {
        world.step().map_err(|e| fail(format!("step {step}: {e}")))?;
    }
    world.quiesce().map_err(|e| fail(format!("quiescence: {e}")))?;
    if cfg.sabotage == Some(Sabotage::TamperHubReadModel) {
        tamper_read_model(&world.replicas[HUB].path).map_err(|e| fail(format!("sabotage: {e}")))?;
    }
    world.check().map_err(fail)?;
    Ok(world.report)
}

impl World {
    fn new(seed: u64, cfg: SimConfig, dir: &Path) -> Result<Self, Error> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut replicas: Vec<Replica> = NAMES
            .iter()
            .zip(scopes())
            .map(|(name, scope)| Replica::open(dir.join(format!("{name}.db")), scope))
            .collect::<Result<_, _>>()?;
        // Some replicas are on slow links: small bundles, so syncs are cut short and resumed.
        for r in &mut replicas {
            if rng.random_bool(0.3) {
                r.bundle_budget = Some(rng.random_range(400..4000));
            }
        }
        for r in &mut replicas {
            r.apply_budget();
        }
        Ok(Self {
            cfg,
            rng,
            replicas,
            network: Vec::new(),
            now: 0,
            next_session: 0,
            writes: Vec::new(),
            applied: Vec::new(),
            finished: Vec::new(),
            rewinds: vec![Vec::new(); NAMES.len()],
            report: Report::default(),
        })
    }

    fn step(&mut self) -> Result<(), String> {
        self.now += 1;
        match self.rng.random_range(0..100) {
            0..40 => self.write(),
            40..52 => {
                let (a, b) = LINKS[self.rng.random_range(0..LINKS.len())];
                // Either side may start: the laptop calls the school, or the school the laptop.
                if self.rng.random_bool(0.7) { self.start_session(a, b, true) } else { self.start_session(b, a, true) }
            }
            _ => self.deliver_one(true),
        }?;
        if self.rng.random_bool(self.cfg.crash) {
            let who = self.rng.random_range(0..self.replicas.len());
            self.crash(who)?;
        }
        if self.rng.random_bool(self.cfg.restore) {
            let who = self.rng.random_range(0..self.replicas.len());
            self.backup_or_restore(who)?;
        }
        if self.rng.random_bool(self.cfg.grow_scope) {
            self.give_laptop_class_cp()?;
        }
        Ok(())
    }

    /// The teacher takes over CP as well: the laptop restarts with a larger scope.
    fn give_laptop_class_cp(&mut self) -> Result<(), String> {
        let cp = Partition::Class(uai(1), local("cp"));
        let laptop = &mut self.replicas[LAPTOP];
        if laptop.scope.contains(&cp) {
            return Ok(());
        }
        let mut rules = laptop.scope.rules().to_vec();
        rules.push(ScopeRule::Exact(cp));
        let path = laptop.path.clone();
        laptop.reopen(path, Scope::new(rules))?;
        self.report.scope_changes += 1;
        Ok(())
    }

    /// Takes a backup of `who`, or restores `who` from the one it has. A write is gone when its
    /// author has been restored since writing it and no replica holds it any more: that is
    /// what restoring means (the other holders may have been restored too). Committed data
    /// disappears in no other way, so nothing else is ever excused.
    fn backup_or_restore(&mut self, who: usize) -> Result<(), String> {
        let (now, name) = (self.now, NAMES[who]);
        let r = &mut self.replicas[who];
        let Some((backup, taken_at)) = r.backup.take() else {
            let dest = r.path.with_file_name(format!("{name}-backup-{now}.db"));
            r.store.backup_to(&dest).map_err(|e| format!("backup: {e}"))?;
            r.backup = Some((dest, now));
            return Ok(());
        };
        // The restored file is the backup itself; the old database is abandoned.
        let scope = r.scope.clone();
        r.reopen(backup, scope)?;
        self.report.restores += 1;
        self.rewinds[who].push((now, taken_at));
        // Bundles it applied before may carry changes now lost everywhere: replaying those
        // is not expected to be a no-op.
        self.applied.retain(|(to, _, _)| *to != who);
        let mut kept = Vec::with_capacity(self.writes.len());
        for (by, at, write) in std::mem::take(&mut self.writes) {
            // Its author was sent back to before it: only then may it be gone. (Within a step the
            // write comes first and the restore or backup after it.)
            let author_rewound = self.rewinds[by].iter().any(|&(when, to)| when >= at && to < at);
            let mut held = !author_rewound;
            for replica in &mut self.replicas {
                if held {
                    break;
                }
                held = present(&mut replica.store, &write)?;
            }
            if held {
                kept.push((by, at, write));
            }
        }
        self.writes = kept;
        Ok(())
    }

    /// A random local edit by a random replica, inside its own scope.
    fn write(&mut self) -> Result<(), String> {
        let who = self.rng.random_range(0..self.replicas.len());
        let candidates: Vec<Partition> =
            partitions().into_iter().filter(|p| self.replicas[who].scope.contains(p)).collect();
        let partition = candidates[self.rng.random_range(0..candidates.len())].clone();
        let tag = format!("{}-{}", NAMES[who], self.now);
        let store = &mut self.replicas[who].store;
        let write = match self.rng.random_range(0..4) {
            0 => {
                let doc = address(&partition, Kind::HomeworkBook, "2026-2027");
                let entry =
                    HomeworkEntry { title: format!("devoir {tag}"), due_on: "2026-11-24".into(), ..Default::default() };
                let title = entry.title.clone();
                store
                    .change::<HomeworkBook, _>(&doc, |b| b.entries.insert(tag.clone(), entry))
                    .map_err(|e| e.to_string())?;
                Write::Entry { doc: doc.id(), entry: tag, title }
            }
            1 => {
                // Retitle an entry this replica can see (concurrent retitles must converge).
                let doc = address(&partition, Kind::HomeworkBook, "2026-2027");
                let title = format!("titre {tag}");
                let pick = self.rng.random_range(0..1000usize);
                let edited = store
                    .change::<HomeworkBook, _>(&doc, |b| {
                        let ids: Vec<String> = b.entries.keys().cloned().collect();
                        let id = ids.get(pick % ids.len().max(1))?.clone();
                        b.entries.get_mut(&id)?.title = title.clone();
                        Some(id)
                    })
                    .map_err(|e| e.to_string())?;
                match edited {
                    Some(entry) => Write::Retitle { doc: doc.id(), entry, title },
                    None => return Ok(()),
                }
            }
            2 => {
                let doc = address(&partition, Kind::Conversation, &format!("conv-{}", self.rng.random_range(0..3)));
                let message = ChatMessage {
                    author: NAMES[who].into(),
                    sent_at: self.now as i64,
                    body: format!("message {tag}"),
                    held: false,
                    attachments: Vec::new(),
                };
                store
                    .change::<Conversation, _>(&doc, |c| {
                        if c.subject.is_empty() {
                            c.subject = format!("sujet {tag}");
                        }
                        c.messages.insert(tag.clone(), message)
                    })
                    .map_err(|e| e.to_string())?;
                Write::Message { doc: doc.id(), message: tag }
            }
            _ => {
                let doc = address(&partition, Kind::NewsPost, &format!("news-{tag}"));
                let title = format!("actualité {tag}");
                let post = NewsPost {
                    title: title.clone(),
                    body: "Texte".into(),
                    author: NAMES[who].into(),
                    published_at: self.now as i64,
                    ..NewsPost::default()
                };
                store.change::<NewsPost, _>(&doc, |p| *p = post).map_err(|e| e.to_string())?;
                Write::News { doc: doc.id(), title }
            }
        };
        self.writes.push((who, self.now, write));
        self.report.writes += 1;
        Ok(())
    }

    fn start_session(&mut self, initiator: usize, responder: usize, faulty: bool) -> Result<(), String> {
        let peer = self.replicas[responder].store.id();
        let (session, hello) =
            Session::initiate(&mut self.replicas[initiator].store, peer).map_err(|e| e.to_string())?;
        let id = self.next_session;
        self.next_session += 1;
        self.replicas[initiator].sessions.insert(id, session);
        self.report.sessions += 1;
        self.send(initiator, responder, id, Role::Responder, hello, faulty);
        Ok(())
    }

    fn send(&mut self, from: usize, to: usize, session: u64, role: Role, bytes: Vec<u8>, faulty: bool) {
        let bytes = match self.cfg.sabotage {
            Some(Sabotage::StripBundlesToSchoolB) if to == SCHOOL_B => strip_last_doc(bytes),
            _ => bytes,
        };
        if faulty && self.rng.random_bool(self.cfg.drop) {
            self.report.dropped += 1;
            return;
        }
        let copies = if faulty && self.rng.random_bool(self.cfg.duplicate) { 2 } else { 1 };
        self.report.duplicated += copies - 1;
        for _ in 0..copies {
            let delay = if faulty { self.rng.random_range(0..=self.cfg.max_delay) } else { 0 };
            self.network.push(Envelope { to, from, session, role, deliver_at: self.now + delay, bytes: bytes.clone() });
        }
    }

    /// Delivers one message whose time has come (a random one when `faulty`, else the oldest).
    fn deliver_one(&mut self, faulty: bool) -> Result<(), String> {
        let ready: Vec<usize> = (0..self.network.len()).filter(|&i| self.network[i].deliver_at <= self.now).collect();
        let Some(&pick) =
            (if faulty { ready.get(self.rng.random_range(0..ready.len().max(1))) } else { ready.first() })
        else {
            return Ok(());
        };
        let env = self.network.remove(pick);
        let replica = &mut self.replicas[env.to];
        let bundle = Message::decode(&env.bytes).ok().and_then(|m| match m {
            Message::Offer { bundle, .. } | Message::AckAndBundle { bundle, .. } => Some(bundle),
            _ => None,
        });
        let outcome = match (env.role, replica.sessions.remove(&env.session)) {
            (Role::Responder, None) => {
                Session::accept(&mut replica.store, &OpenPolicy, &env.bytes).map(|(s, reply)| (Some(s), Some(reply)))
            }
            (_, Some(mut session)) => {
                session.receive(&mut replica.store, &OpenPolicy, &env.bytes).map(|reply| (Some(session), reply))
            }
            // The session died with a crash: the message has nowhere to go.
            (Role::Initiator, None) => return Ok(()),
        };
        let (session, reply) = match outcome {
            Ok(r) => r,
            // Duplicates and stale messages reach sessions in another state: refused, harmless.
            Err(Error::Refused(preau_sync::error::Refusal::Unexpected(_))) => return Ok(()),
            Err(e) => return Err(format!("{} refused a message from {}: {e}", NAMES[env.to], NAMES[env.from])),
        };
        if let Some(bundle) = bundle {
            self.report.partial_bundles += usize::from(!bundle.complete);
            let sender_scope = self.replicas[env.from].scope.clone();
            self.applied.push((env.to, bundle, sender_scope));
            self.report.bundles += 1;
        }
        self.check_scope(env.to)?;
        match session {
            Some(s) if !s.is_done() => {
                self.replicas[env.to].sessions.insert(env.session, s);
            }
            Some(s) => {
                self.report.completed += usize::from(faulty);
                self.report.reconciliations += usize::from(s.stats().full_reconciliation);
                self.finished.push(s.stats().clone());
            }
            None => {}
        }
        if let Some(reply) = reply {
            let role = if env.role == Role::Responder { Role::Initiator } else { Role::Responder };
            self.send(env.to, env.from, env.session, role, reply, faulty);
        }
        Ok(())
    }

    /// The replica loses its memory and restarts from its database file.
    fn crash(&mut self, who: usize) -> Result<(), String> {
        let r = &mut self.replicas[who];
        let (path, scope) = (r.path.clone(), r.scope.clone());
        r.reopen(path, scope)?;
        self.report.crashes += 1;
        Ok(())
    }

    fn check_scope(&mut self, who: usize) -> Result<(), String> {
        let r = &mut self.replicas[who];
        for e in r.store.catalog().map_err(|e| e.to_string())? {
            if !r.scope.contains(&e.address.partition) {
                return Err(format!("{} holds {} of {}, outside its scope", NAMES[who], e.id, e.address.partition));
            }
        }
        Ok(())
    }

    /// Heals the network and runs sessions on every link until a full round moves nothing.
    fn quiesce(&mut self) -> Result<(), String> {
        self.network.clear();
        for r in &mut self.replicas {
            r.sessions.clear();
        }
        let mut last_round = Vec::new();
        for _round in 0..QUIESCE_ROUNDS {
            let mut moved = 0;
            let mut agreed = true;
            last_round.clear();
            for (a, b) in LINKS {
                self.finished.clear();
                self.start_session(a, b, false)?;
                self.report.quiesce_sessions += 1;
                while !self.network.is_empty() {
                    self.deliver_one(false)?;
                }
                if self.finished.len() != 2 {
                    return Err(format!("a reliable session {} → {} did not finish", NAMES[a], NAMES[b]));
                }
                moved += self.finished.iter().map(|s| s.docs_sent as usize).sum::<usize>();
                agreed &= self.finished.iter().all(|s| s.converged);
                let sent: Vec<u32> = self.finished.iter().map(|s| s.docs_sent).collect();
                let full = self.finished.iter().any(|s| s.full_reconciliation);
                let converged = self.finished.iter().all(|s| s.converged);
                last_round.push(format!("{}→{}: docs {sent:?} full {full} converged {converged}", NAMES[a], NAMES[b]));
            }
            if moved == 0 && agreed {
                return Ok(());
            }
        }
        Err(format!(
            "replicas still exchange documents after {QUIESCE_ROUNDS} rounds of reliable syncs; last round: {}",
            last_round.join("; ")
        ))
    }
}

impl World {
    /// The end-state checks.
    fn check(&mut self) -> Result<(), String> {
        for who in 0..self.replicas.len() {
            self.check_scope(who)?;
        }
        let hub = snapshot(&mut self.replicas[HUB].store)?;
        for (name, replica) in NAMES.iter().zip(&mut self.replicas).skip(1) {
            let mine = snapshot(&mut replica.store)?;
            let scope = &replica.scope;
            let expected: BTreeMap<DocId, Vec<_>> = hub
                .heads
                .iter()
                .filter(|(_, (partition, _))| scope.contains(partition))
                .map(|(id, (_, heads))| (*id, heads.clone()))
                .collect();
            let actual: BTreeMap<DocId, Vec<_>> = mine.heads.iter().map(|(id, (_, h))| (*id, h.clone())).collect();
            if let Some(id) = expected.keys().chain(actual.keys()).find(|id| expected.get(id) != actual.get(id)) {
                let show = |h: Option<&Vec<_>>| h.map_or("absent".to_owned(), |h| format!("{} head(s)", h.len()));
                return Err(format!(
                    "{name} and hub diverge on document {id}: hub {}, {name} {}",
                    show(expected.get(id)),
                    show(actual.get(id))
                ));
            }
            let ids: BTreeSet<String> = actual.keys().map(ToString::to_string).collect();
            let hub_rows = hub.rows_for(&ids);
            if hub_rows != mine.rows {
                return Err(format!("{name} and hub have different read models"));
            }
        }
        let own = self.replicas[HUB].store.read_models().map_err(|e| e.to_string())?;
        self.replicas[HUB].store.rebuild_read_models().map_err(|e| e.to_string())?;
        if self.replicas[HUB].store.read_models().map_err(|e| e.to_string())? != own {
            return Err("hub's read models differ from a rebuild from its documents".into());
        }
        self.check_writes()?;
        self.check_replays()
    }

    /// Every committed write is on the hub (and, by convergence, on every replica in scope).
    fn check_writes(&mut self) -> Result<(), String> {
        let store = &mut self.replicas[HUB].store;
        let mut titles: BTreeMap<(DocId, String), BTreeSet<String>> = BTreeMap::new();
        for (_, _, w) in &self.writes {
            if let Write::Entry { doc, entry, title } | Write::Retitle { doc, entry, title } = w {
                titles.entry((*doc, entry.clone())).or_default().insert(title.clone());
            }
        }
        for (by, at, w) in &self.writes {
            if !present(store, w)? {
                return Err(format!("acknowledged write lost: {w:?} by {} at step {at}", NAMES[*by]));
            }
            if let Write::Entry { doc, entry, .. } = w {
                let book = store.get::<HomeworkBook>(*doc).map_err(|e| e.to_string())?;
                let title = book.and_then(|b| b.entries.get(entry).map(|e| e.title.clone())).unwrap_or_default();
                if !titles[&(*doc, entry.clone())].contains(&title) {
                    return Err(format!("entry {entry} has title {title:?}, which nobody wrote"));
                }
            }
        }
        Ok(())
    }

    /// Re-applying any bundle a replica applied changes nothing.
    fn check_replays(&mut self) -> Result<(), String> {
        for (to, bundle, sender_scope) in std::mem::take(&mut self.applied) {
            let store = &mut self.replicas[to].store;
            let before = snapshot(store)?;
            store.apply_bundle(&bundle, &sender_scope, &OpenPolicy).map_err(|e| format!("replay refused: {e}"))?;
            let after = snapshot(store)?;
            let what = [
                (before.heads != after.heads, "heads"),
                (before.seqs != after.seqs, "seqs"),
                (before.rows != after.rows, "read models"),
            ];
            if let Some((_, what)) = what.iter().find(|(changed, _)| *changed) {
                return Err(format!("re-applying a bundle from {} changed the {what} of {}", bundle.from, NAMES[to]));
            }
        }
        Ok(())
    }
}

/// What must agree between replicas: heads per document, and read-model rows.
#[derive(PartialEq)]
struct Snapshot {
    heads: BTreeMap<DocId, (Partition, Vec<automerge_hash::Hash>)>,
    seqs: BTreeMap<DocId, u64>,
    rows: BTreeMap<&'static str, Vec<Vec<preau_sync::Cell>>>,
}

mod automerge_hash {
    /// A change hash as bytes (keeps this crate free of a direct automerge dependency).
    pub type Hash = [u8; 32];
}

impl Snapshot {
    fn rows_for(&self, ids: &BTreeSet<String>) -> BTreeMap<&'static str, Vec<Vec<preau_sync::Cell>>> {
        self.rows
            .iter()
            .map(|(table, rows)| {
                let kept = rows
                    .iter()
                    .filter(|r| matches!(r.first(), Some(preau_sync::Cell::Text(id)) if ids.contains(id)))
                    .cloned()
                    .collect();
                (*table, kept)
            })
            .collect()
    }
}

fn snapshot(store: &mut Store) -> Result<Snapshot, String> {
    let catalog: Vec<CatalogEntry> = store.catalog().map_err(|e| e.to_string())?;
    Ok(Snapshot {
        heads: catalog
            .iter()
            .map(|e| (e.id, (e.address.partition.clone(), e.heads.iter().map(|h| h.0).collect())))
            .collect(),
        seqs: catalog.iter().map(|e| (e.id, e.seq)).collect(),
        rows: store.read_models().map_err(|e| e.to_string())?,
    })
}

/// Whether `store` holds what `write` wrote (a retitle only has to leave one of the
/// written titles, which `check_writes` verifies).
fn present(store: &mut Store, write: &Write) -> Result<bool, String> {
    let e = |e: Error| e.to_string();
    Ok(match write {
        Write::Entry { doc, entry, .. } => {
            store.get::<HomeworkBook>(*doc).map_err(e)?.is_some_and(|b| b.entries.contains_key(entry))
        }
        Write::Retitle { .. } => true,
        Write::Message { doc, message } => {
            store.get::<Conversation>(*doc).map_err(e)?.is_some_and(|c| c.messages.contains_key(message))
        }
        Write::News { doc, title } => store.get::<NewsPost>(*doc).map_err(e)?.is_some_and(|p| &p.title == title),
    })
}

fn strip_last_doc(bytes: Vec<u8>) -> Vec<u8> {
    match Message::decode(&bytes) {
        Ok(Message::Offer { hello, mut bundle }) if !bundle.docs.is_empty() => {
            bundle.docs.pop();
            Message::Offer { hello, bundle }.encode()
        }
        Ok(Message::AckAndBundle { ack, mut bundle }) if !bundle.docs.is_empty() => {
            bundle.docs.pop();
            Message::AckAndBundle { ack, bundle }.encode()
        }
        _ => bytes,
    }
}

fn tamper_read_model(path: &Path) -> Result<(), String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let deleted = conn
        .execute("DELETE FROM message WHERE rowid = (SELECT min(rowid) FROM message)", [])
        .map_err(|e| e.to_string())?;
    if deleted == 1 { Ok(()) } else { Err("no message row to delete".into()) }
}
