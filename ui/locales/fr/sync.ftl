# Synchronisation avec le hub académique
ago-now = à l'instant
ago-minutes = il y a { $n } min
ago-hours = il y a { $n } h
ago-days = il y a { $n } jours
sync-last = Dernière synchronisation : { $ago }
hub-school-synced = Dernière synchronisation de l'école : { $ago }
hub-school-never = L'école ne s'est pas encore synchronisée : ce que vous voyez ici peut être incomplet.
sync-never = Jamais synchronisé
sync-never-seen = jamais
tile-sync = Synchronisation
sync-title = Synchronisation avec l'académie
sync-status = État
sync-hub = Hub académique
sync-last-ok = Dernière synchronisation réussie
sync-waiting-up = En attente d'envoi
sync-waiting-up-count = { $n } document(s) modifié(s) depuis le dernier envoi
sync-certificate = Certificat du serveur
sync-valid-until = valable jusqu'au { $date } (renouvelé à chaque synchronisation)
sync-running = En cours
sync-last-error = Dernier problème
sync-details = Détails techniques
sync-now = Synchroniser maintenant
sync-runs = Dernières synchronisations
sync-no-runs = Aucune synchronisation pour l'instant.
sync-run-ok = réussie
sync-run-failed = interrompue
sync-run-summary = { $up } document(s) envoyé(s), { $down } reçu(s), { $files_up } fichier(s) envoyé(s), { $files_down } reçu(s), { $kb } Ko échangés
sync-quarantine = Modifications refusées
sync-quarantine-intro = Ces modifications ne respectaient pas les règles de l'école : elles ont été mises de côté sans rien changer, et le reste de la synchronisation est passé. Elles seront proposées de nouveau à chaque synchronisation, au cas où les règles les acceptent (par exemple après l'arrivée d'un enseignant dans la classe).
sync-quarantine-discard = Supprimer
sync-quarantine-discarded = Les modifications mises de côté ont été supprimées.
sync-enroll = Relier ce serveur au hub académique
sync-enroll-intro = Saisissez l'adresse du hub et le code d'enrôlement fournis par l'académie. Le code ne sert qu'une fois.
sync-hub-address = Adresse du hub
sync-enroll-code = Code d'enrôlement
sync-enroll-button = Enrôler le serveur
sync-enrolled = Le serveur est relié au hub : une première synchronisation commence.
sync-bad-hub-url = L'adresse du hub doit commencer par https:// (ou http:// sur un réseau de test).
sync-devices = Ordinateurs des enseignants
sync-devices-intro = Un enseignant peut travailler sans réseau sur son ordinateur : créez un code pour l'enrôler auprès de ce serveur. Il ne recevra que ses classes.
sync-device-teacher = Enseignant
sync-device-create = Créer un code d'enrôlement
sync-device-label = Ordinateur de { $name }
sync-device-code-for = Code pour « { $label } » (valable 14 jours, une seule fois) :
sync-seen = dernière connexion
sync-revoked = révoqué
sync-revoke = Révoquer
sync-away = Synchronisation hors de l'école
sync-away-intro = Un enseignant peut aussi synchroniser son ordinateur par internet avec le serveur académique quand il n'est pas à l'école (le soir, le week-end). Un ordinateur perdu ou volé continue alors de recevoir les nouveautés de ses classes tant que vous ne l'avez pas révoqué ci-dessous.
sync-away-allow = Autoriser les ordinateurs des enseignants à se synchroniser hors de l'école
sync-away-save = Enregistrer
sync-away-on = Autorisée : hors de l'école, les ordinateurs des enseignants se synchronisent avec le serveur académique.
sync-away-off = Non autorisée : les ordinateurs des enseignants ne se synchronisent qu'à l'école.
sync-away-needs-hub = Possible une fois ce serveur relié au hub académique.
sync-advice-away-closed = L'école n'autorise pas la synchronisation hors de l'école : vos changements restent sur cet ordinateur et partiront à votre retour à l'école.
sync-advice-not-enrolled = Ce serveur n'est pas encore relié au hub : saisissez l'adresse et le code fournis par l'académie.
sync-advice-unreachable = Le hub est injoignable : vérifiez la connexion internet de l'école. Préau réessaiera tout seul, et rien n'est perdu en attendant.
sync-advice-revoked = L'académie a révoqué ce serveur : contactez l'assistance académique pour le relier de nouveau.
sync-advice-unknown-replica = Le hub ne connaît pas ce serveur : demandez un nouveau code d'enrôlement à l'académie.
sync-advice-expired = Le certificat du serveur a expiré (pas de synchronisation depuis plusieurs mois) : demandez un nouveau code d'enrôlement.
sync-advice-certificate = Le hub n'a pas reconnu le certificat de ce serveur : demandez un nouveau code d'enrôlement à l'académie.
sync-advice-clock = L'horloge du serveur est très décalée : vérifiez sa date et son heure.
sync-advice-quarantined = Le hub a refusé un envoi de ce serveur qui était mal formé : rien n'a été appliqué. Si cela se reproduit, contactez l'assistance.
sync-advice-refused-incoming = Des modifications reçues du hub ne respectaient pas les règles de l'école : elles ont été mises de côté sans rien changer (voir ci-dessous) ; le reste est arrivé.
sync-advice-refused-outgoing = Le hub a refusé certaines modifications de ce serveur parce qu'elles ne respectaient pas les règles : elles restent ici et seront proposées de nouveau ; le reste est passé. Si cela dure, contactez l'assistance.
sync-advice-quota = L'espace de l'école sur le hub est plein : certains fichiers n'ont pas été envoyés. Supprimez des fichiers anciens ou demandez plus d'espace à l'académie.
sync-advice-busy = Le hub est très occupé : Préau réessaiera dans quelques minutes.
sync-advice-other = La synchronisation a échoué. Préau réessaiera tout seul ; si cela dure, transmettez les détails ci-dessous à l'assistance.
hub-title = Hub académique Préau
hub-admin-name = Administrateur académique
hub-admin-password = Mot de passe administrateur
hub-new-code = Enrôler une école
hub-uai = UAI de l'école
hub-school-name = Nom de l'école (facultatif)
hub-create-code = Créer un code d'enrôlement
hub-code-for = Code pour { $label } (valable 14 jours, une seule fois) :
hub-schools = Serveurs d'école enrôlés
hub-no-school = Aucun serveur d'école enrôlé pour l'instant.
hub-school = École
hub-state = État
hub-pending-codes = Codes en attente
hub-code-until = valable jusqu'au { $date }
hub-bad-uai = L'UAI doit compter sept chiffres et une lettre, par exemple 0290001A.
hub-bad-name = Le nom de l'école est trop long ou contient des caractères non autorisés.

## Enrôlement (page de synchronisation et `preau enroll`)
enroll-unreachable = Le serveur { $url } est injoignable : vérifiez l'adresse et la connexion internet ({ $detail }).
enroll-bad-code = Ce code d'enrôlement est inconnu, déjà utilisé ou expiré : demandez-en un nouveau.
enroll-school-has-server = Cette école a déjà un serveur Préau inscrit auprès de l'académie ({ $server }) : utilisez-le. S'il est hors service, demandez à l'académie de le retirer, puis recommencez avec un nouveau code.
enroll-refused = Le serveur a refusé l'enrôlement ({ $detail }).

## Étapes d'une synchronisation en cours (page de synchronisation et `preau sync now`)
sync-phase-waiting = en attente
sync-phase-connect = connexion
sync-phase-receive = réception
sync-phase-send = envoi

## Premier démarrage de l'application de bureau : l'ordinateur de l'enseignant rejoint son école
join-title = Me connecter à mon école
join-intro = Cet ordinateur gardera vos classes pour travailler sans réseau. Choisissez le serveur Préau de votre école : il doit être sur le même réseau que cet ordinateur.
join-found = Serveurs trouvés sur ce réseau
join-found-none = Aucun serveur Préau n'a été trouvé sur ce réseau. Saisissez son adresse ci-dessous (elle est affichée sur le serveur de l'école et sur les lettres de connexion).
join-typed = Saisir l'adresse du serveur
join-address = Adresse du serveur de l'école
join-address-hint = Par exemple preau.local:8080 ou 192.168.1.10:8080.
join-continue = Continuer
join-bad-address = Cette adresse n'est pas valide : saisissez par exemple preau.local:8080.
join-no-school = Aucun serveur Préau ne répond à l'adresse { $url } : vérifiez l'adresse et que cet ordinateur est sur le réseau de l'école.
join-qr = Lire le code QR du serveur
join-qr-picture = Photo ou capture d'écran du code QR
join-qr-hint = Le code QR est collé sur le serveur de l'école et affiché sur sa page d'administration. Une image PNG ou JPEG.
join-qr-missing = Choisissez d'abord l'image du code QR.
join-qr-unreadable = Aucun code QR lisible sur cette image : prenez une photo plus nette, bien en face, ou saisissez l'adresse.
join-qr-not-ours = Ce code QR ne donne pas l'adresse d'un serveur Préau : photographiez le code collé sur le serveur de l'école.
join-camera = Montrer le code QR à la caméra
join-camera-intro = Tenez le code QR du serveur (son étiquette, sa page d'administration ou la carte d'un élève) devant la caméra de cet ordinateur.
join-camera-start = Utiliser la caméra
join-camera-looking = La caméra cherche un code QR…
join-camera-none = Pas encore de code QR lisible : approchez le code, bien en face et éclairé.
join-camera-denied = La caméra n'est pas disponible : envoyez plutôt une photo du code, ou saisissez l'adresse.
join-login = Connexion à { $school }
join-login-intro = Connectez-vous avec votre compte de l'école. Votre mot de passe n'est pas gardé sur cet ordinateur.
join-submit = Me connecter et récupérer mes classes
join-other-server = Choisir un autre serveur
join-unreachable = Le serveur de l'école ne répond plus : vérifiez que cet ordinateur est toujours sur le réseau de l'école, puis réessayez.
join-too-many = Trop d'essais de connexion : patientez quelques minutes avant de réessayer.
join-bad-login = Identifiant ou mot de passe incorrect.
join-change-password-first = Vous vous connectez pour la première fois avec un code d'activation : choisissez d'abord votre mot de passe sur le serveur de l'école, puis revenez ici.
join-not-teacher = Seuls les enseignants et le directeur ou la directrice peuvent garder leurs classes sur un ordinateur.
join-refused = Le serveur de l'école a refusé d'enregistrer cet ordinateur. Réessayez ; si cela recommence, prévenez le directeur ou la directrice.
join-first-sync = Récupération de vos classes
join-first-sync-intro = Cet ordinateur est enregistré auprès de { $url }. Vos classes arrivent : gardez-le sur le réseau de l'école jusqu'à la fin.
join-retry = Réessayer

## Où en est l'ordinateur de l'enseignant (pied de chaque page de l'application de bureau)
device-synced = Synchronisé ({ $ago })
device-pending = En attente : { $n ->
    [one] 1 changement
   *[other] { $n } changements
}
device-offline = Hors ligne depuis { $since }
device-offline-never = Hors ligne : jamais synchronisé
device-syncing = Synchronisation en cours…
since-now = moins d'une minute
since-minutes = { $n } min
since-hours = { $n } h
since-days = { $n ->
    [one] 1 jour
   *[other] { $n } jours
}

## L'application de bureau, avant ses pages
desktop-no-keyring = Cet ordinateur n'a pas de trousseau de clés (le coffre du système où les applications rangent leurs secrets). Préau peut garder ses clés dans un fichier que vous seul pouvez lire, dans votre dossier personnel : quiconque ouvre votre session pourra alors s'en servir. Voulez-vous continuer ainsi ?
desktop-no-keyring-agree = Garder les clés dans un fichier
desktop-quit = Quitter
desktop-keyring-closed = Le trousseau de clés qui garde les clés de Préau ne répond pas : déverrouillez votre session (ou votre trousseau), puis relancez Préau.
desktop-keys-lost = Le trousseau de clés ne contient plus les clés de cet ordinateur : il doit rejoindre son école à nouveau. Fermez Préau, déplacez le dossier { $dir } ailleurs, puis relancez Préau.
desktop-start-failed = Préau n'a pas pu démarrer ({ $detail }).
desktop-choose = Comment cet ordinateur va-t-il servir Préau ?
desktop-teacher = Me connecter à mon école
desktop-teacher-text = Votre école a un serveur Préau. Cet ordinateur garde vos classes et vous laisse travailler sans réseau, chez vous ou dans le train ; il se synchronise dès qu'il retrouve l'école.
desktop-class-server = Servir ma classe sur ce réseau
desktop-class-server-text = Votre école n'a pas de serveur Préau : cet ordinateur le devient. Les tablettes de la classe le trouvent sur le Wi-Fi de l'école. Pendant la classe, il doit rester allumé et ne pas se mettre en veille, et son pare-feu doit laisser passer le port { $port }. Il se synchronise avec l'ENT de l'académie chaque fois qu'il est en ligne.
desktop-class-server-refused = Votre école a déjà un serveur Préau sur ce réseau : { $name } ({ $url }). Cet ordinateur ne peut pas en être un second ; choisissez « Me connecter à mon école ».
desktop-keep-awake = Préau sert la classe : les tablettes ont besoin de cet ordinateur éveillé.
desktop-port-busy = Préau ne peut pas écouter sur { $addr } : un autre programme utilise sans doute ce port. Fermez-le, ou choisissez un autre port (réglage « listen ») dans { $file }. ({ $detail })
sync-holidays = Courriels pendant les vacances
sync-holidays-intro = Le site académique prévient les familles et l'équipe par courriel (un mot à signer, un message, une actualité). Pendant les vacances scolaires inscrites dans l'agenda de l'école, il peut attendre la rentrée : tout ce qui a attendu part alors en un seul courriel par personne.
sync-holidays-pause = Ne rien envoyer pendant les vacances scolaires
