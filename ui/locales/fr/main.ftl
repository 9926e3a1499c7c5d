# Préau — textes de l'interface (français, langue de référence)

## Erreurs
error-title = Impossible de continuer
error-unauthenticated = Veuillez vous connecter.
error-forbidden = Vous n'avez pas accès à cette page.
error-window-only = Cette adresse est réservée à la fenêtre de l'application Préau de cet ordinateur : ouvrez l'application.
error-not-found = Cette page n'existe pas, ou vous n'y avez pas accès.
error-csrf = Le formulaire a expiré. Revenez en arrière, rechargez la page et recommencez.
error-too-many-attempts = Trop d'essais. Attendez quelques minutes avant de recommencer.
error-bad-request = La demande n'est pas valide.
error-bad-form = Le formulaire envoyé est incomplet ou invalide.
error-too-large = Le fichier ou le formulaire envoyé est trop volumineux.
error-too-long = Un des champs est trop long (200 caractères au plus).
error-internal = Une erreur inattendue s'est produite. Rien n'a été modifié ; réessayez, et prévenez la direction si cela continue.
back-home = Retour à l'accueil
back = Retour

## Gabarit
skip-to-content = Aller au contenu
nav-account = Mon compte
logout = Se déconnecter

## Connexion
login-title = Connexion
login-name = Identifiant
login-password = Mot de passe
login-activation-hint = Première connexion ? Saisissez le code d'activation de votre fiche de connexion à la place du mot de passe.
login-submit = Se connecter
login-pupils = Élèves : choisissez votre classe
login-failed = Identifiant ou mot de passe incorrect.
login-too-many = Trop d'essais manqués pour ce compte depuis cet appareil : chaque nouvel essai manqué allonge l'attente (jusqu'à une heure). Réessayez dans quelques minutes, depuis un appareil où vous vous êtes déjà connecté, ou demandez une nouvelle fiche de connexion à la direction.

## Mot de passe
password-title = Choisir un mot de passe
password-forced = Bienvenue ! Pour terminer l'activation de votre compte, choisissez votre mot de passe.
password-current = Mot de passe actuel
password-new = Nouveau mot de passe
password-rule = Au moins 8 caractères, sans votre nom, votre identifiant ni le nom de l'école, et pas un mot de passe courant : trois ou quatre mots qui ne vont pas ensemble font un bon mot de passe.
password-confirm = Confirmez le nouveau mot de passe
password-submit = Enregistrer le mot de passe
password-too-short = Le mot de passe doit contenir au moins 8 caractères.
password-too-long = Le mot de passe est trop long (256 caractères au plus).
password-mismatch = Les deux mots de passe ne sont pas identiques.
password-is-login = Le mot de passe doit être différent de l'identifiant.
password-current-wrong = Le mot de passe actuel est incorrect.

## Connexion des élèves
class-login-title = Touche ton prénom —
pictures-title = Touche tes images secrètes
pictures-progress = Images déjà touchées
pictures-erase = Recommencer
pictures-not-me = Ce n'est pas moi
pictures-wrong = Ce ne sont pas les bonnes images. Essaie encore !
pictures-too-many = Trop d'essais. Demande à ton enseignant de te débloquer.
picture-cat = chat
picture-dog = chien
picture-fish = poisson
picture-bird = oiseau
picture-tree = arbre
picture-flower = fleur
picture-sun = soleil
picture-moon = lune
picture-star = étoile
picture-house = maison
picture-car = voiture
picture-boat = bateau
picture-apple = pomme
picture-ball = ballon
picture-heart = cœur
picture-key = clé
qr-title = Bonjour !
qr-its-me = C'est moi !
qr-not-me = Ce n'est pas moi
qr-unknown = Cette carte de connexion n'est pas valable (elle a peut-être été remplacée). Demande une nouvelle carte à ton enseignant.

## Installation
setup-title = Installer Préau dans l'école
setup-intro = Bienvenue ! Renseignez l'école et créez le compte de la direction. Vous pourrez ensuite importer les élèves depuis ONDE.
setup-school = L'école
setup-uai = Numéro UAI (RNE)
setup-uai-hint = Sept chiffres et une lettre, par exemple 0351234A.
setup-name = Nom de l'école
setup-address = Adresse
setup-postcode = Code postal
setup-commune = Commune
setup-academy = Académie
setup-director = La direction
setup-civility = Civilité
civility-mrs = Mme
civility-mr = M.
file-kb = { $kb } Ko
setup-first-name = Prénom
setup-last-name = Nom
setup-email = Adresse électronique
setup-submit = Créer l'école
setup-restore = Cette école a déjà un serveur Préau
setup-restore-intro = Pour remplacer un serveur en panne (ou l'ordinateur qui servait la classe), demandez à l'académie de révoquer l'ancien et de vous donner un code d'enrôlement : l'école, ses comptes et son travail reviendront du serveur académique, tels qu'à sa dernière synchronisation.
setup-restore-submit = Récupérer l'école
setup-restoring = Récupération de l'école
setup-restoring-intro = L'école revient depuis { $url }. Cette page se met à jour toute seule ; vous vous connecterez ensuite avec votre compte habituel.
setup-bad-uai = Le numéro UAI doit comporter sept chiffres suivis d'une lettre (par exemple 0351234A).
setup-missing = Le nom de l'école, la commune, le prénom et le nom de la direction sont obligatoires.

## Page publique
public-login = Se connecter
public-news = Actualités de l'école
public-no-news = Aucune actualité publique pour le moment.

## Accueil
home-title = Accueil
home-hello = Bonjour { $name } !
children-nav = Mes enfants
child-teachers = Enseignants :
child-class-label = Classe :
pupil-class = Ta classe : { $class } — { $teachers }
pupil-bye = Au revoir
tile-accounts = Comptes et classes
tile-import = Importer depuis ONDE
tile-letters = Fiches de connexion
tile-appliance = Le boîtier Préau
tile-team = L'équipe de l'école
profile-director = Direction de l'école
profile-teacher = Enseignant·e
profile-parent = Parent
profile-academy-admin = Administration académique
staff-role-atsem = ATSEM
staff-role-aesh = AESH
staff-role-periscolaire = Périscolaire
staff-role-commune = Personnel communal
staff-role-other = Personnel de l'école
team-title = L'équipe de l'école

## Tableaux
col-name = Nom
col-role = Fonction
col-classes = Classes
col-class = Classe
col-level = Niveau
col-login = Identifiant
col-status = État
col-actions = Actions
col-children = Enfants

## Comptes et classes
account-activated = Activé
account-waiting = En attente d'activation
action-letter = Fiche
action-reset = Réinitialiser
action-new-card = Nouvelle carte QR
action-revoke-card = Révoquer la carte
qr-card-active = Carte QR active
qr-card-none = Pas de carte QR
class-title = Classe { $class } ({ $year })
class-pupils = Élèves
class-parents = Parents
class-login-page = Page de connexion de la classe
accounts-title = Comptes et classes
accounts-summary = Élèves :
accounts-parents = Parents :
accounts-classes = Classes
accounts-staff = Personnels

## Fiches de connexion
letters-title = Fiches de connexion
letters-intro = Imprimez les fiches d'une classe : une page par élève (avec sa carte QR et ses images secrètes) ou par parent (avec son code d'activation).
letters-pupils = Fiches des élèves
letters-parents = Fiches des parents
letters-print-hint = Utilisez la fonction Imprimer du navigateur : une fiche par page A4.
letter-heading = Fiche de connexion —
letter-card-hint = Carte de connexion : découpe-la et montre-la à l'appareil photo de la tablette.
letter-pictures = Tes images secrètes, dans l'ordre
letter-parent-intro = Voici vos informations pour suivre la scolarité de votre enfant sur Préau, l'espace numérique de l'école.
letter-password-login = Se connecter avec un identifiant
letter-address = Adresse à l'école
letter-home-address = Adresse à la maison
letter-home-card = À la maison : scanne ce code avec le téléphone ou la tablette de la maison pour ouvrir ton espace. Ne le montre à personne d'autre.
letter-code = Code d'activation
letter-already-active = Compte déjà activé : utilisez votre mot de passe.
letter-code-hint = À la première connexion, saisissez le code d'activation comme mot de passe, puis choisissez votre mot de passe. Le code ne sert qu'une fois. Gardez cette fiche en lieu sûr.

## Import ONDE (pages)
import-title = Importer depuis ONDE
import-intro = Choisissez une ou plusieurs extractions ONDE (élèves, enseignants, responsables) ou une liste simple « Nom;Prénom;Date de naissance;Sexe ». Préau vous montre d'abord ce qui va changer ; rien n'est enregistré avant votre confirmation.
import-files = Fichiers CSV
import-year = Année scolaire
import-check = Vérifier les fichiers
import-preview = Ce que l'import va faire
import-preview-intro = Vérifiez ce qui va changer, puis confirmez.
import-result = Ce que l'import a fait
import-done = Import terminé.
import-refused = Aucun changement n'a été fait : corrigez ces points puis recommencez.
import-created = Créations :
import-updated = Mises à jour :
import-unchanged = Inchangés :
import-nothing = Tout est déjà à jour : il n'y a rien à importer.
import-apply = Importer
import-cancel = Annuler
import-place = { $file }, ligne { $line }
import-no-file = Aucun fichier n'a été choisi.
import-too-many-files = Dix fichiers au plus par import.
import-bad-year = L'année scolaire choisie n'est pas valide.
import-expired = Cet aperçu a expiré : envoyez de nouveau les fichiers.
import-unknown-class = La classe « { $class } » n'existe pas pour l'année { $year } : importez d'abord l'extraction des élèves.
import-unknown-child = L'enfant { $name } (classe { $class }) est introuvable parmi les élèves : importez d'abord l'extraction des élèves.
import-class-created = Classe { $class } ({ $year })
import-class-updated = Classe { $class } : niveaux complétés
import-class-archived = Classe { $class } ({ $year }) archivée
import-pupil-created = Élève { $name } — { $class }
import-pupil-updated = Élève { $name } — { $class }
import-teacher-created = Enseignant·e { $name }
import-teacher-updated = Enseignant·e { $name } : coordonnées
import-teacher-assigned = { $name } enseigne en { $class }
import-parent-created = Responsable { $name }
import-parent-updated = Responsable { $name } : coordonnées
import-guardian-linked = { $name } est responsable de { $child }
setup-required = L'école n'est pas encore installée : ouvrez la page d'installation.
import-refused-api = Import refusé : aucun changement n'a été fait.

## Le boîtier
appliance-intro = Les tablettes et les ordinateurs de l'école ouvrent Préau à l'une de ces adresses. Scannez le code QR avec une tablette, ou imprimez l'étiquette et collez-la sur le boîtier.
appliance-addresses = Adresses sur le réseau de l'école
appliance-mdns = Nom sur le réseau local :
appliance-mdns-off = L'annonce sur le réseau local (mDNS) est désactivée.
appliance-print-label = Imprimer l'étiquette
appliance-label-title = Étiquette du boîtier
appliance-label-hint = Scannez ce code avec une tablette de l'école pour ouvrir Préau.

## Classes, groupes, équipe
tile-structures = Classes, groupes et équipe
structures-classes = Classes
structures-teachers = Enseignants
structures-remove = Retirer
structures-add-teacher = Ajouter comme enseignant
structures-new-class = Nouvelle classe
structures-class-name = Nom de la classe
structures-create-class = Créer la classe
structures-new-member = Ajouter un membre de l'équipe
structures-staff-role = Fonction (personnel)
structures-add-member = Créer le compte et imprimer sa fiche
structures-groups = Groupes
structures-no-group = Aucun groupe pour le moment.
structures-add-member-to = Ajouter au groupe
structures-group-name = Nom du nouveau groupe
structures-create-group = Créer le groupe
structures-bad-profile = Choisissez « Enseignant·e » ou « Personnel de l'école ».
structures-bad-role = Choisissez la fonction du membre du personnel (ATSEM, AESH, périscolaire ou personnel communal).
structures-bad-civility = La civilité doit être « Mme », « M. » ou rester vide.
structures-bad-email = L'adresse électronique n'est pas valide.
structures-bad-name = Le prénom et le nom sont obligatoires (100 caractères au plus).
structures-bad-class-name = Le nom de la classe est obligatoire (100 caractères au plus).
structures-bad-levels = Cochez au moins un niveau (de la PS au CM2).
structures-class-exists = Une classe porte déjà ce nom cette année.
structures-bad-teacher = Seuls les enseignants et la direction de l'école peuvent enseigner dans une classe.
structures-bad-group-name = Le nom du groupe est obligatoire (100 caractères au plus).
structures-group-exists = Un groupe porte déjà ce nom.
structures-bad-member = Cette personne ne fait pas partie de l'école.
error-busy = Le serveur est très occupé : réessayez dans un instant.
import-ambiguous-child = Plusieurs élèves de l'école s'appellent { $name } : écrivez la classe de l'enfant dans la colonne « Classes enfants » de cette ligne, puis importez de nouveau le fichier.
import-homonyms = Deux élèves de la classe « { $class } » s'appellent { $name } : le fichier ne permet pas de savoir lequel est l'enfant de ce responsable, et Préau ne le devine pas. Retirez cette ligne du fichier pour importer le reste ; ce responsable recevra son compte lorsqu'une extraction distinguera les deux enfants (par exemple par leur nom d'usage).
import-pupil-archived = Élève { $name } : absent de l'extraction, archivé (a quitté l'école)

login-pupils-tablets = Élèves : la connexion par images se fait sur une tablette de la classe. Votre enseignant la prépare une fois depuis la page de la classe.
pictures-tablet-only = Cet appareil n'est pas une tablette de la classe. Pour que les élèves s'y connectent avec leurs images, l'enseignant ouvre la page de la classe sur cet appareil et touche « Faire de cet appareil une tablette de la classe ».
tablets-title = Tablettes de la classe
tablets-explain = Les élèves se connectent avec leurs images seulement sur les tablettes de la classe : ailleurs, personne ne peut essayer de deviner leurs images. Après cinq essais manqués, un élève attend que vous le débloquiez ici.
tablets-mark = Faire de cet appareil une tablette de la classe
tablets-count = Tablettes de la classe : { $count }
tablets-remove = Retirer toutes les tablettes de la classe
pupil-locked = Bloqué après 5 essais.
action-unlock = Débloquer

reset-reason = Motif
reset-reason-required = Écrivez le motif de la réinitialisation (300 caractères au plus) : ce compte est déjà activé, et son titulaire le lira à sa prochaine connexion.
reset-director-only = Ce compte est déjà activé : seule la direction de l'école peut le réinitialiser, en indiquant pourquoi.
reset-director-only-hint = Compte activé : la direction peut le réinitialiser.
reset-notice = Votre compte a été réinitialisé le { $date } par { $by }. Si vous n'êtes pas à l'origine de cette demande, prévenez l'école.
reset-notice-reason = Motif : { $reason }
reset-by-school = l'école
audit-title = Journal des comptes
audit-explain = Chaque réinitialisation, fiche de connexion imprimée, carte QR et déblocage, avec qui l'a fait et quand.
audit-empty = Rien pour le moment.
audit-reset = Réinitialisation
audit-letter = Fiche de connexion
audit-qr-card = Nouvelle carte QR
audit-qr-revoke = Carte QR révoquée
audit-unlock = Déblocage (images)
col-date = Date
col-by = Par
col-account = Compte
col-action = Action
col-reason = Motif
password-personal = Ce mot de passe reprend votre nom, votre identifiant ou le nom de l'école : c'est ce qu'on essaie en premier pour le deviner. Choisissez-en un autre.
password-common = Ce mot de passe fait partie des plus courants : il serait deviné en quelques essais. Choisissez-en un autre, par exemple trois ou quatre mots qui ne vont pas ensemble.
password-pattern = Ce mot de passe est une répétition ou une suite de caractères (aaaa, abcd, 1234, azerty) : il serait vite deviné. Choisissez-en un autre.
password-weak = Ce mot de passe serait trop facile à deviner. Allongez-le, par exemple avec trois ou quatre mots qui ne vont pas ensemble.

# The hub's front door (school::portal)
portal-title = Trouver son école
portal-intro = Choisissez l'école de votre enfant (ou la vôtre) pour voir ses actualités et vous connecter. L'adresse exacte est aussi sur votre fiche de connexion.
portal-search = Nom de l'école, commune, code postal ou numéro UAI
portal-search-submit = Chercher
portal-none = Aucune école ne correspond à cette recherche.
portal-more = D'autres écoles correspondent : précisez la recherche (la commune, par exemple).
portal-school = École : { $name }
portal-change = Changer d'école

# A family's accounts in several schools, on the hub (school::family)
tile-family = Ma famille
family-title = Ma famille
family-intro = Si vos enfants sont dans plusieurs écoles, reliez ici vos comptes : vous verrez tous vos enfants depuis une seule connexion. Le lien n'existe que sur ce site académique ; les écoles ne le voient pas.
family-this-account = ce compte
family-no-child = Aucun enfant sur ce compte.
family-open = Ouvrir
family-unlink = Délier ce compte
family-unlink-me = Délier ce compte de la famille
family-link-title = Ajouter un enfant d'une autre école
family-link-intro = Saisissez les informations de la fiche de connexion que l'autre école vous a remise : son adresse à la maison (ou son numéro UAI), l'identifiant, et le mot de passe de ce compte ou son code d'activation.
family-school = Adresse à la maison ou numéro UAI de l'autre école
family-password = Mot de passe ou code d'activation de ce compte
family-link-submit = Relier ce compte
family-elsewhere = Vos enfants dans d'autres écoles
family-school-unknown = Cette école n'est pas sur ce site : vérifiez l'adresse ou le numéro UAI de la fiche de connexion.
family-adults-only = Seul le compte d'un adulte (parent, enseignant, personnel) peut être relié : le compte d'un élève reste le sien.
family-already = Ce compte est déjà relié au vôtre.
family-too-many = Une famille relie huit comptes au plus : déliez-en un avant d'en ajouter un autre.

# Opening a class to its families (school::admin)
families-title = Les familles
families-open = Cette classe est ouverte aux familles : les parents de ses élèves se connectent à Préau, à l'école et depuis la maison, et reçoivent ce qui les concerne.
families-closed = Cette classe n'est pas encore ouverte aux familles : ses parents ne peuvent pas se connecter, leurs fiches de connexion ne s'impriment pas et rien ne leur est envoyé. L'ouverture est le choix de l'école (direction ou enseignant de la classe).
families-do-open = Ouvrir la classe aux familles
families-close = Fermer la classe aux familles
letters-families-closed = Cette classe n'est pas encore ouverte aux familles : les fiches des parents s'imprimeront quand elle le sera (page de la classe).
login-families-closed = La classe de votre enfant n'est pas encore ouverte aux familles sur Préau. L'école vous préviendra dès qu'elle le sera.
letters-class-closed = La convention ENT de la commune ne couvre pas encore cette classe : ses élèves et leurs familles n'ont pas encore accès à Préau.
login-class-closed = Ta classe n'utilise pas encore Préau. Demande à ton enseignant ou ton enseignante.
