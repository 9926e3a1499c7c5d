# Messagerie : conversations, modération des messages des élèves.

tile-messages = Messagerie
tile-messages-unread = Messagerie ({ $count } non lu(s))
messaging-new = Nouvelle conversation
messaging-none = Aucune conversation pour l'instant.
messaging-unread = { $count } non lu(s)
messaging-about = Écrire à la famille de
messaging-family-of = la famille de { $name }
messaging-to = Destinataires
messaging-subject = Sujet
messaging-body = Message
messaging-send = Envoyer
messaging-reply = Répondre
messaging-waiting = En attente de validation par l'enseignant·e.
messaging-refused = Ce message n'a pas été transmis.
messaging-approve = Transmettre
messaging-refuse = Refuser
messaging-class-title = Messagerie de la classe — { $class }
messaging-moderated = Les messages des élèves attendent ma validation avant d'être transmis
messaging-classmates = Les élèves peuvent écrire à leurs camarades de classe
messaging-held = Messages en attente de validation
messaging-none-held = Aucun message en attente.

messaging-bad-subject = Donnez un sujet à la conversation (120 caractères au plus).
messaging-bad-body = Écrivez le message (5 000 caractères au plus).
messaging-not-allowed = Vous ne pouvez pas écrire à ces personnes ensemble. Choisissez parmi les destinataires proposés.
messaging-attach = Joindre des fichiers (facultatif, 5 au plus)
messaging-classmates-closed = Votre enseignant a fermé les messages entre élèves de la classe : cette conversation se lit toujours, mais on ne peut plus y écrire.
