# Ce qu'affiche la commande `preau` : ses commandes d'entretien, et le serveur au démarrage.
# Langue choisie d'après LC_ALL, LC_MESSAGES ou LANG (anglais si elle commence par « en »).

cli-tagline = Préau { $version } — l'ENT du premier degré qui fonctionne sans internet.
cli-hint = `preau serve --demo` lance une école de démonstration ; `preau --help` liste les commandes.
# Une erreur : sa première ligne ; ses causes (messages du système) suivent, en retrait.
cli-error = Erreur : { $error }

## Le serveur
cli-ready = Préau est prêt. Ouvrez dans un navigateur :
cli-hub-password = Hub académique : mot de passe de l'administrateur (affiché une seule fois) : { $password }
cli-creating-data-dir = impossible de créer le dossier de données { $dir }
cli-bad-mail = réglages [mail] du hub à corriger dans preau.toml (ou PREAU_MAIL_*) : { $error }
cli-opening = impossible d'ouvrir { $file }
cli-listening = impossible d'écouter sur { $addr }
cli-no-school = aucune école pour l'instant : lancez `preau serve` et remplissez d'abord la page d'installation

## École de démonstration (serve --demo)
cli-demo-created = École de démonstration créée : { $school }
cli-demo-accounts = Comptes de démonstration (mot de passe : { $password }) :
cli-demo-pupil = Élève : { $first } ({ $class }) — sur une tablette de la classe (son enseignant la prépare depuis la page de la classe), son prénom, puis : { $pictures }
demo-account-director = Directrice
demo-account-teacher-ce = Enseignante (CE1-CE2)
demo-account-teacher-cp = Enseignant (CP)
demo-account-atsem = ATSEM
demo-account-parent = Parent de deux enfants

## healthcheck, discover
cli-healthy = ok
cli-no-answer = aucun serveur ne répond à l'adresse { $addr }
cli-unhealthy = le serveur répond, mais ne va pas bien : { $status } { $detail }
cli-discover-none = Aucun boîtier Préau entendu sur ce réseau.

## import onde
cli-reading = impossible de lire { $file }
cli-import-line = { $place } : { $note }
cli-import-step-preview = aperçu
cli-import-step-apply = import
cli-import-apply-hint = (ajoutez --apply pour importer)

## enroll, sync, hub
cli-enrolled = Enrôlé auprès de { $url } (certificat valable jusqu'au { $date }).
cli-sync-done = Synchronisation réussie : { $up } document(s) envoyé(s), { $down } reçu(s), { $files_up } fichier(s) envoyé(s), { $files_down } reçu(s).
cli-sync-detail = Détail : { $detail }
cli-sync-refused = le serveur a refusé : { $detail }
cli-sync-docs = ↑{ $up } ↓{ $down } documents
cli-sync-files = ↑{ $up } ↓{ $down } fichiers
cli-sync-bytes = { $n } octets
cli-hub-bad-uai = UAI invalide : « { $uai } » (sept chiffres et une lettre, par exemple 0290001A)
cli-hub-bad-replica = identifiant de réplique invalide : « { $replica } »
cli-hub-no-replica = aucune réplique enrôlée et non révoquée n'a l'identifiant { $replica }
cli-hub-revoked = Réplique { $replica } révoquée.
cli-hub-active = active
cli-hub-revoked-state = révoquée
cli-database-hub-only = Seul le serveur académique (--role hub) garde sa réplique dans PostgreSQL : un serveur d’école garde la sienne à côté de lui (retirez database_url ou PREAU_DATABASE_URL).
cli-postgres-database = la base PostgreSQL (database_url)
