# Synchronisation with the academy hub
ago-now = just now
ago-minutes = { $n } min ago
ago-hours = { $n } h ago
ago-days = { $n } days ago
sync-last = Last synchronisation: { $ago }
hub-school-synced = The school's last synchronisation: { $ago }
hub-school-never = The school has not synchronised yet: what you see here may be incomplete.
sync-never = Never synchronised
sync-never-seen = never
tile-sync = Synchronisation
sync-title = Synchronisation with the academy
sync-status = Status
sync-hub = Academy hub
sync-last-ok = Last successful synchronisation
sync-waiting-up = Waiting to be sent
sync-waiting-up-count = { $n } document(s) changed since the last upload
sync-certificate = Appliance certificate
sync-valid-until = valid until { $date } (renewed at every synchronisation)
sync-running = In progress
sync-last-error = Last problem
sync-details = Technical details
sync-now = Synchronise now
sync-runs = Latest synchronisations
sync-no-runs = No synchronisation yet.
sync-run-ok = done
sync-run-failed = interrupted
sync-run-summary = { $up } document(s) sent, { $down } received, { $files_up } file(s) sent, { $files_down } received, { $kb } KB exchanged
sync-quarantine = Refused changes
sync-quarantine-intro = These changes broke the school's rules: they were set aside and changed nothing, and the rest of the synchronisation went through. They are offered again at every synchronisation, in case the rules accept them by then (for example once a teacher joins the class).
sync-quarantine-discard = Delete
sync-quarantine-discarded = The changes set aside were deleted.
sync-enroll = Link this server to the academy hub
sync-enroll-intro = Enter the hub's address and the enrolment code given by the academy. The code works once.
sync-hub-address = Hub address
sync-enroll-code = Enrolment code
sync-enroll-button = Enrol the server
sync-enrolled = The server is linked to the hub: a first synchronisation is starting.
sync-bad-hub-url = The hub's address must start with https:// (or http:// on a test network).
sync-devices = Teachers' computers
sync-devices-intro = A teacher can work offline on their computer: create a code to enrol it with this server. It will only receive their classes.
sync-device-teacher = Teacher
sync-device-create = Create an enrolment code
sync-device-label = { $name }'s computer
sync-device-code-for = Code for “{ $label }” (valid 14 days, once):
sync-seen = last seen
sync-revoked = revoked
sync-revoke = Revoke
sync-away = Syncing away from school
sync-away-intro = A teacher may also sync her computer over the internet with the academy's server when she is not at school (evenings, weekends). A lost or stolen computer then keeps receiving its classes' news until you revoke it below.
sync-away-allow = Let teachers' computers sync away from school
sync-away-save = Save
sync-away-on = Allowed: away from school, teachers' computers sync with the academy's server.
sync-away-off = Not allowed: teachers' computers sync only at school.
sync-away-needs-hub = Possible once this server is linked to the academy's hub.
sync-advice-away-closed = The school does not allow syncing away from school: your changes stay on this computer and will leave when you are back at school.
sync-advice-not-enrolled = This server is not linked to the hub yet: enter the address and code given by the academy.
sync-advice-unreachable = The hub cannot be reached: check the school's internet connection. Préau will retry by itself, and nothing is lost meanwhile.
sync-advice-revoked = The academy revoked this server: contact the academy's support to link it again.
sync-advice-unknown-replica = The hub does not know this server: ask the academy for a new enrolment code.
sync-advice-expired = The server's certificate expired (no synchronisation for months): ask for a new enrolment code.
sync-advice-certificate = The hub did not recognise this server's certificate: ask the academy for a new enrolment code.
sync-advice-clock = The server's clock is far off: check its date and time.
sync-advice-quarantined = The hub refused a malformed batch from this server: nothing was applied. Contact support if it happens again.
sync-advice-refused-incoming = Changes received from the hub broke the school's rules: they were set aside and changed nothing (see below); the rest arrived.
sync-advice-refused-outgoing = The hub refused some changes from this server because they broke the rules: they stay here and will be offered again; the rest went through. Contact support if it lasts.
sync-advice-quota = The school's space on the hub is full: some files were not sent. Delete old files or ask the academy for more space.
sync-advice-busy = The hub is very busy: Préau will retry in a few minutes.
sync-advice-other = Synchronisation failed. Préau will retry by itself; if it lasts, give the details below to support.
hub-title = Préau academy hub
hub-admin-name = Academy administrator
hub-admin-password = Administrator password
hub-new-code = Enrol a school
hub-uai = School UAI
hub-school-name = School name (optional)
hub-create-code = Create an enrolment code
hub-code-for = Code for { $label } (valid 14 days, once):
hub-schools = Enrolled school servers
hub-no-school = No school server enrolled yet.
hub-school = School
hub-state = State
hub-pending-codes = Pending codes
hub-code-until = valid until { $date }
hub-bad-uai = The UAI is seven digits and a letter, for example 0290001A.
hub-bad-name = The school's name is too long or has characters that are not allowed.

## Enrolment (the sync page and `preau enroll`)
enroll-unreachable = The server { $url } cannot be reached: check the address and the internet connection ({ $detail }).
enroll-bad-code = This enrolment code is unknown, already used or expired: ask for a new one.
enroll-school-has-server = This school already has a Préau server enrolled with the académie ({ $server }): use it. If it is out of order, ask the académie to revoke it, then try again with a new code.
enroll-refused = The server refused the enrolment ({ $detail }).

## Steps of a synchronisation under way (the sync page and `preau sync now`)
sync-phase-waiting = waiting
sync-phase-connect = connecting
sync-phase-receive = receiving
sync-phase-send = sending

## The desktop app's first run: the teacher's computer joins her school
join-title = Connect to my school
join-intro = This computer will keep your classes so that you can work without a network. Choose your school's Préau server: it must be on the same network as this computer.
join-found = Servers found on this network
join-found-none = No Préau server was found on this network. Type its address below (the school's server and the login letters show it).
join-typed = Type the server's address
join-address = Address of the school's server
join-address-hint = For example preau.local:8080 or 192.168.1.10:8080.
join-continue = Continue
join-bad-address = This address is not valid: type for example preau.local:8080.
join-no-school = No Préau server answers at { $url }: check the address and that this computer is on the school's network.
join-qr = Read the server's QR code
join-qr-picture = Photo or screenshot of the QR code
join-qr-hint = The QR code is stuck on the school's server and shown on its administration page. A PNG or JPEG picture.
join-qr-missing = First choose the picture of the QR code.
join-qr-unreadable = No readable QR code in this picture: take a sharper photo, straight on, or type the address.
join-qr-not-ours = This QR code does not give a Préau server's address: photograph the code stuck on the school's server.
join-camera = Show the QR code to the camera
join-camera-intro = Hold the server's QR code (its label, its administration page or a pupil's card) in front of this computer's camera.
join-camera-start = Use the camera
join-camera-looking = The camera is looking for a QR code…
join-camera-none = No readable QR code yet: bring the code closer, facing the camera, in good light.
join-camera-denied = The camera is not available: send a photo of the code instead, or type the address.
join-login = Log in to { $school }
join-login-intro = Log in with your school account. Your password is not kept on this computer.
join-submit = Log in and fetch my classes
join-other-server = Choose another server
join-unreachable = The school's server no longer answers: check that this computer is still on the school's network, then try again.
join-too-many = Too many login attempts: wait a few minutes before trying again.
join-bad-login = Wrong login or password.
join-change-password-first = You are logging in for the first time with an activation code: first choose your password on the school's server, then come back here.
join-not-teacher = Only teachers and the head teacher can keep their classes on a computer.
join-refused = The school's server refused to register this computer. Try again; if it happens again, tell the head teacher.
join-first-sync = Fetching your classes
join-first-sync-intro = This computer is registered with { $url }. Your classes are on their way: keep it on the school's network until the end.
join-retry = Try again

## Where the teacher's computer stands (every page's footer in the desktop app)
device-synced = Synced ({ $ago })
device-pending = Waiting: { $n ->
    [one] 1 change
   *[other] { $n } changes
}
device-offline = Offline for { $since }
device-offline-never = Offline: never synced
device-syncing = Syncing…
since-now = less than a minute
since-minutes = { $n } min
since-hours = { $n } h
since-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}

## The desktop app, before its pages
desktop-no-keyring = This computer has no keyring (the system's safe where applications keep their secrets). Préau can keep its keys in a file only you can read, in your home folder: anyone who opens your session could then use them. Continue this way?
desktop-no-keyring-agree = Keep the keys in a file
desktop-quit = Quit
desktop-keyring-closed = The keyring that keeps Préau's keys does not answer: unlock your session (or your keyring), then start Préau again.
desktop-keys-lost = The keyring no longer holds this computer's keys: it must join its school again. Close Préau, move the folder { $dir } elsewhere, then start Préau again.
desktop-start-failed = Préau could not start ({ $detail }).
desktop-choose = How will this computer run Préau?
desktop-teacher = Connect to my school
desktop-teacher-text = Your school has a Préau server. This computer keeps your classes and lets you work without a network, at home or on the train; it syncs as soon as it is back at school.
desktop-class-server = Serve my class on this network
desktop-class-server-text = Your school has no Préau server: this computer becomes it. The class's tablets find it on the school's Wi-Fi. During class it must stay on and must not go to sleep, and its firewall must let port { $port } through. It syncs with the académie's ENT whenever it is online.
desktop-class-server-refused = Your school already has a Préau server on this network: { $name } ({ $url }). This computer cannot be a second one; choose « Connect to my school ».
desktop-keep-awake = Préau is serving the class: the tablets need this computer awake.
desktop-port-busy = Préau cannot listen on { $addr }: another program probably uses this port. Close it, or choose another port (the « listen » setting) in { $file }. ({ $detail })
sync-holidays = E-mails during the holidays
sync-holidays-intro = The académie's site tells families and staff by e-mail (a note to sign, a message, a news post). During the school holidays listed in the school's agenda, it can wait for the return: whatever waited then goes in one e-mail per person.
sync-holidays-pause = Send nothing during the school holidays
