# What the `preau` command prints: its maintenance commands, and the server when it starts.
# The language comes from LC_ALL, LC_MESSAGES or LANG (English when it starts with "en").

cli-tagline = Préau { $version } — the primary school ENT that works without internet.
cli-hint = `preau serve --demo` starts a demo school; `preau --help` lists the commands.
# An error: its first line; its causes (the system's messages) follow, indented.
cli-error = Error: { $error }

## The server
cli-ready = Préau is ready. Open in a browser:
cli-hub-password = Academy hub: the administrator's password (shown only once): { $password }
cli-creating-data-dir = cannot create the data directory { $dir }
cli-bad-mail = the hub's [mail] settings need correcting in preau.toml (or PREAU_MAIL_*): { $error }
cli-opening = cannot open { $file }
cli-listening = cannot listen on { $addr }
cli-no-school = no school yet: run `preau serve` and complete the setup page first

## Demo school (serve --demo)
cli-demo-created = Demo school created: { $school }
cli-demo-accounts = Demo accounts (password: { $password }):
cli-demo-pupil = Pupil: { $first } ({ $class }) — on a class tablet (their teacher sets it up from the class page), their first name, then: { $pictures }
demo-account-director = Head teacher
demo-account-teacher-ce = Teacher (CE1-CE2)
demo-account-teacher-cp = Teacher (CP)
demo-account-atsem = ATSEM
demo-account-parent = Parent of two children

## healthcheck, discover
cli-healthy = ok
cli-no-answer = no server answers at { $addr }
cli-unhealthy = the server answers, but is not healthy: { $status } { $detail }
cli-discover-none = No Préau appliance heard on this network.

## import onde
cli-reading = cannot read { $file }
cli-import-line = { $place }: { $note }
cli-import-step-preview = preview
cli-import-step-apply = import
cli-import-apply-hint = (add --apply to import)

## enroll, sync, hub
cli-enrolled = Enrolled with { $url } (certificate valid until { $date }).
cli-sync-done = Synchronisation done: { $up } document(s) sent, { $down } received, { $files_up } file(s) sent, { $files_down } received.
cli-sync-detail = Detail: { $detail }
cli-sync-refused = the server refused: { $detail }
cli-sync-docs = ↑{ $up } ↓{ $down } documents
cli-sync-files = ↑{ $up } ↓{ $down } files
cli-sync-bytes = { $n } bytes
cli-hub-bad-uai = invalid UAI: “{ $uai }” (seven digits and a letter, for example 0290001A)
cli-hub-bad-replica = invalid replica id: “{ $replica }”
cli-hub-no-replica = no enrolled, unrevoked replica has the id { $replica }
cli-hub-revoked = Replica { $replica } revoked.
cli-hub-active = active
cli-hub-revoked-state = revoked
cli-database-hub-only = Only the hub (--role hub) keeps its replica in PostgreSQL: a school server keeps its own beside it (remove database_url or PREAU_DATABASE_URL).
cli-postgres-database = the PostgreSQL database (database_url)
