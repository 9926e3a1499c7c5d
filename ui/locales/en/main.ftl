# Préau — interface text (English)

## Errors
error-title = Cannot continue
error-unauthenticated = Please log in.
error-forbidden = You do not have access to this page.
error-window-only = This address belongs to the window of this computer's Préau app: open the app.
error-not-found = This page does not exist, or you do not have access to it.
error-csrf = The form has expired. Go back, reload the page and try again.
error-too-many-attempts = Too many attempts. Wait a few minutes before trying again.
error-bad-request = The request is not valid.
error-bad-form = The form sent is incomplete or invalid.
error-too-large = The file or form sent is too large.
error-too-long = One of the fields is too long (200 characters at most).
error-internal = An unexpected error occurred. Nothing was changed; try again, and tell the head teacher if it keeps happening.
back-home = Back to the home page
back = Back

## Layout
skip-to-content = Skip to content
nav-account = My account
logout = Log out

## Login
login-title = Log in
login-name = Login
login-password = Password
login-activation-hint = First time? Type the activation code from your login letter instead of a password.
login-submit = Log in
login-pupils = Pupils: choose your class
login-failed = Wrong login or password.
login-too-many = Too many failed attempts for this account from this device: each new failure makes the wait longer (up to an hour). Try again in a few minutes, from a device you logged in on before, or ask the school office for a new login letter.

## Password
password-title = Choose a password
password-forced = Welcome! To finish activating your account, choose your password.
password-current = Current password
password-new = New password
password-rule = At least 8 characters, without your name, your login or the school's name, and not a common password: three or four unrelated words make a good one.
password-confirm = Confirm the new password
password-submit = Save the password
password-too-short = The password must have at least 8 characters.
password-too-long = The password is too long (256 characters at most).
password-mismatch = The two passwords are not the same.
password-is-login = The password must differ from the login.
password-current-wrong = The current password is wrong.

## Pupils' login
class-login-title = Tap your name —
pictures-title = Tap your secret pictures
pictures-progress = Pictures already tapped
pictures-erase = Start again
pictures-not-me = This is not me
pictures-wrong = Those are not the right pictures. Try again!
pictures-too-many = Too many tries. Ask your teacher to unlock you.
picture-cat = cat
picture-dog = dog
picture-fish = fish
picture-bird = bird
picture-tree = tree
picture-flower = flower
picture-sun = sun
picture-moon = moon
picture-star = star
picture-house = house
picture-car = car
picture-boat = boat
picture-apple = apple
picture-ball = ball
picture-heart = heart
picture-key = key
qr-title = Hello!
qr-its-me = It's me!
qr-not-me = This is not me
qr-unknown = This login card is not valid (it may have been replaced). Ask your teacher for a new card.

## Setup
setup-title = Install Préau in the school
setup-intro = Welcome! Enter the school's details and create the head teacher's account. You can then import pupils from ONDE.
setup-school = The school
setup-uai = UAI number (RNE)
setup-uai-hint = Seven digits and a letter, for example 0351234A.
setup-name = School name
setup-address = Address
setup-postcode = Postcode
setup-commune = Municipality
setup-academy = Académie
setup-director = The head teacher
setup-civility = Title
civility-mrs = Mrs
civility-mr = Mr
file-kb = { $kb } KB
setup-first-name = First name
setup-last-name = Last name
setup-email = E-mail address
setup-submit = Create the school
setup-restore = This school already has a Préau server
setup-restore-intro = To replace a broken server (or the computer that served the class), ask the academy to revoke the old one and give you an enrolment code: the school, its accounts and its work come back from the academy's server as they were at its last synchronisation.
setup-restore-submit = Bring the school back
setup-restoring = Bringing the school back
setup-restoring-intro = The school is coming back from { $url }. This page updates itself; you will then log in with your usual account.
setup-bad-uai = The UAI number must be seven digits followed by a letter (for example 0351234A).
setup-missing = The school name, the municipality and the head teacher's first and last names are required.

## Public page
public-login = Log in
public-news = School news
public-no-news = No public news yet.

## Home
home-title = Home
home-hello = Hello { $name }!
children-nav = My children
child-teachers = Teachers:
child-class-label = Class:
pupil-class = Your class: { $class } — { $teachers }
pupil-bye = Goodbye
tile-accounts = Accounts and classes
tile-import = Import from ONDE
tile-letters = Login letters
tile-appliance = The Préau box
tile-team = The school team
profile-director = Head teacher
profile-teacher = Teacher
profile-parent = Parent
profile-academy-admin = Academy administration
staff-role-atsem = Nursery assistant (ATSEM)
staff-role-aesh = Support assistant (AESH)
staff-role-periscolaire = After-school staff
staff-role-commune = Municipal staff
staff-role-other = School staff
team-title = The school team

## Tables
col-name = Name
col-role = Role
col-classes = Classes
col-class = Class
col-level = Level
col-login = Login
col-status = Status
col-actions = Actions
col-children = Children

## Accounts and classes
account-activated = Active
account-waiting = Waiting for activation
action-letter = Letter
action-reset = Reset
action-new-card = New QR card
action-revoke-card = Revoke the card
qr-card-active = QR card active
qr-card-none = No QR card
class-title = Class { $class } ({ $year })
class-pupils = Pupils
class-parents = Parents
class-login-page = The class's login page
accounts-title = Accounts and classes
accounts-summary = Pupils:
accounts-parents = Parents:
accounts-classes = Classes
accounts-staff = Staff

## Login letters
letters-title = Login letters
letters-intro = Print a class's letters: one page per pupil (with their QR card and secret pictures) or per parent (with their activation code).
letters-pupils = Pupils' letters
letters-parents = Parents' letters
letters-print-hint = Use the browser's Print command: one letter per A4 page.
letter-heading = Login letter —
letter-card-hint = Login card: cut it out and show it to the tablet's camera.
letter-pictures = Your secret pictures, in order
letter-parent-intro = Here is how to follow your child's school life on Préau, the school's digital space.
letter-password-login = Log in with a login name
letter-address = Address at school
letter-home-address = Address at home
letter-home-card = At home: scan this code with the family's phone or tablet to open your space. Show it to nobody else.
letter-code = Activation code
letter-already-active = Account already active: use your password.
letter-code-hint = The first time, type the activation code as the password, then choose your password. The code works once. Keep this letter safe.

## ONDE import (pages)
import-title = Import from ONDE
import-intro = Choose one or more ONDE extractions (pupils, teachers, guardians) or a simple list "Nom;Prénom;Date de naissance;Sexe". Préau first shows what will change; nothing is saved before you confirm.
import-files = CSV files
import-year = School year
import-check = Check the files
import-preview = What the import will do
import-preview-intro = Check what will change, then confirm.
import-result = What the import did
import-done = Import finished.
import-refused = Nothing was changed: fix these points and try again.
import-created = Created:
import-updated = Updated:
import-unchanged = Unchanged:
import-nothing = Everything is already up to date: nothing to import.
import-apply = Import
import-cancel = Cancel
import-place = { $file }, line { $line }
import-no-file = No file was chosen.
import-too-many-files = Ten files at most per import.
import-bad-year = The chosen school year is not valid.
import-expired = This preview has expired: send the files again.
import-unknown-class = Class "{ $class }" does not exist for { $year }: import the pupils' extraction first.
import-unknown-child = Child { $name } (class { $class }) is not among the pupils: import the pupils' extraction first.
import-class-created = Class { $class } ({ $year })
import-class-updated = Class { $class }: levels completed
import-class-archived = Class { $class } ({ $year }) archived
import-pupil-created = Pupil { $name } — { $class }
import-pupil-updated = Pupil { $name } — { $class }
import-teacher-created = Teacher { $name }
import-teacher-updated = Teacher { $name }: contact details
import-teacher-assigned = { $name } teaches { $class }
import-parent-created = Guardian { $name }
import-parent-updated = Guardian { $name }: contact details
import-guardian-linked = { $name } is a guardian of { $child }
setup-required = The school is not set up yet: open the setup page.
import-refused-api = Import refused: nothing was changed.

## The box
appliance-intro = The school's tablets and computers open Préau at one of these addresses. Scan the QR code with a tablet, or print the label and stick it on the box.
appliance-addresses = Addresses on the school network
appliance-mdns = Name on the local network:
appliance-mdns-off = Announcing on the local network (mDNS) is turned off.
appliance-print-label = Print the label
appliance-label-title = The box's label
appliance-label-hint = Scan this code with a school tablet to open Préau.

## Classes, groups, team
tile-structures = Classes, groups and team
structures-classes = Classes
structures-teachers = Teachers
structures-remove = Remove
structures-add-teacher = Add as teacher
structures-new-class = New class
structures-class-name = Class name
structures-create-class = Create the class
structures-new-member = Add a team member
structures-staff-role = Role (staff)
structures-add-member = Create the account and print its letter
structures-groups = Groups
structures-no-group = No group yet.
structures-add-member-to = Add to the group
structures-group-name = Name of the new group
structures-create-group = Create the group
structures-bad-profile = Choose "Teacher" or "School staff".
structures-bad-role = Choose the staff member's role (ATSEM, AESH, after-school or municipal staff).
structures-bad-civility = The title must be "Mme", "M." or empty.
structures-bad-email = The e-mail address is not valid.
structures-bad-name = First and last names are required (100 characters at most).
structures-bad-class-name = The class name is required (100 characters at most).
structures-bad-levels = Tick at least one level (PS to CM2).
structures-class-exists = A class already has this name this year.
structures-bad-teacher = Only the school's teachers and head teacher can teach a class.
structures-bad-group-name = The group name is required (100 characters at most).
structures-group-exists = A group already has this name.
structures-bad-member = This person is not part of the school.
error-busy = The server is very busy: try again in a moment.
import-ambiguous-child = Several pupils of the school are called { $name }: write the child's class in this line's “Classes enfants” column, then import the file again.
import-homonyms = Two pupils of class “{ $class }” are called { $name }: the file cannot tell which one is this guardian's child, and Préau does not guess. Remove this line from the file to import the rest; this guardian gets an account once an extraction tells the two children apart (by their usage name, for example).
import-pupil-archived = Pupil { $name }: not in the extraction, archived (left the school)

login-pupils-tablets = Pupils: picture logins work on the class's tablets. Your teacher sets one up once from the class page.
pictures-tablet-only = This device is not one of the class's tablets. So that pupils can log in here with their pictures, the teacher opens the class page on this device and taps “Make this device a class tablet”.
tablets-title = Class tablets
tablets-explain = Pupils log in with their pictures only on the class's tablets: nowhere else can anyone try to guess their pictures. After five failed tries, a pupil waits for you to unlock them here.
tablets-mark = Make this device a class tablet
tablets-count = Class tablets: { $count }
tablets-remove = Withdraw all the class's tablets
pupil-locked = Locked after 5 tries.
action-unlock = Unlock

reset-reason = Reason
reset-reason-required = Write the reason for the reset (300 characters at most): this account is already activated, and its owner will read it at their next login.
reset-director-only = This account is already activated: only the school's head can reset it, saying why.
reset-director-only-hint = Activated account: the head can reset it.
reset-notice = Your account was reset on { $date } by { $by }. If you did not ask for it, tell the school.
reset-notice-reason = Reason: { $reason }
reset-by-school = the school
audit-title = Account log
audit-explain = Every reset, printed login letter, QR card and unlock, with who did it and when.
audit-empty = Nothing yet.
audit-reset = Reset
audit-letter = Login letter
audit-qr-card = New QR card
audit-qr-revoke = QR card revoked
audit-unlock = Unlocked (pictures)
col-date = Date
col-by = By
col-account = Account
col-action = Action
col-reason = Reason
password-personal = This password uses your name, your login or the school's name: that is what a guesser tries first. Choose another one.
password-common = This password is one of the most common ones: it would be guessed in a few tries. Choose another one, for example three or four unrelated words.
password-pattern = This password is a repetition or a sequence of characters (aaaa, abcd, 1234, qwerty): it would be guessed quickly. Choose another one.
password-weak = This password would be too easy to guess. Make it longer, for example with three or four unrelated words.

# The hub's front door (school::portal)
portal-title = Find your school
portal-intro = Choose your child's school (or your own) to see its news and sign in. The exact address is also on your login letter.
portal-search = School name, town, postcode or UAI number
portal-search-submit = Search
portal-none = No school matches this search.
portal-more = More schools match: narrow the search (the town, for instance).
portal-school = School: { $name }
portal-change = Change school

# A family's accounts in several schools, on the hub (school::family)
tile-family = My family
family-title = My family
family-intro = If your children are in several schools, link your accounts here: you will see all your children from one login. The link exists only on this académie site; the schools do not see it.
family-this-account = this account
family-no-child = No child on this account.
family-open = Open
family-unlink = Unlink this account
family-unlink-me = Unlink this account from the family
family-link-title = Add a child from another school
family-link-intro = Type what the other school's login letter says: its address at home (or its UAI number), the login, and that account's password or its activation code.
family-school = The other school's address at home, or its UAI number
family-password = That account's password or activation code
family-link-submit = Link this account
family-elsewhere = Your children in other schools
family-school-unknown = This school is not on this site: check the address or the UAI number on the login letter.
family-adults-only = Only an adult's account (parent, teacher, staff) can be linked: a pupil's account stays their own.
family-already = This account is already linked to yours.
family-too-many = A family links eight accounts at most: unlink one before adding another.

# Opening a class to its families (school::admin)
families-title = Families
families-open = This class is open to families: its pupils' parents log in to Préau, at school and from home, and receive what concerns them.
families-closed = This class is not open to families yet: its parents cannot log in, their login letters are not printed and nothing is sent to them. Opening it is the school's choice (the head or the class's teacher).
families-do-open = Open the class to families
families-close = Close the class to families
letters-families-closed = This class is not open to families yet: the parents' letters can be printed once it is (the class's page).
login-families-closed = Your child's class is not open to families on Préau yet. The school will tell you when it is.
letters-class-closed = The commune's ENT agreement does not cover this class yet: its pupils and their families cannot use Préau yet.
login-class-closed = Your class does not use Préau yet. Ask your teacher.
