# Agenda : événements de l'école, de la classe, personnels ; vacances ; abonnement iCalendar.

tile-agenda = Agenda
agenda-from = À partir du { $date }
agenda-later = Plus tard
agenda-none = Aucun événement sur cette période.
agenda-holiday = vacances
agenda-feed = S'abonner depuis un agenda
agenda-feed-hint = Cette adresse secrète permet à une application d'agenda (téléphone, ordinateur) d'afficher vos événements. Ne la partagez pas ; changez-la si elle a été divulguée : l'ancienne cessera de fonctionner.
agenda-feed-create = Créer mon adresse d'abonnement
agenda-feed-renew = Changer d'adresse (l'ancienne ne fonctionnera plus)
agenda-new = Ajouter un événement
agenda-place = Agenda
agenda-place-school = L'école
agenda-place-personal = Mon agenda personnel
agenda-title = Titre
agenda-starts = Premier jour
agenda-start-time = Heure de début (facultative)
agenda-ends = Dernier jour (facultatif)
agenda-end-time = Heure de fin (facultative)
agenda-location = Lieu
agenda-description = Précisions
agenda-is-holiday = Vacances scolaires
agenda-add = Ajouter
agenda-withdraw = Retirer cet événement

agenda-bad-title = Donnez un titre à l'événement (120 caractères au plus).
agenda-bad-text = Le texte est trop long ou contient des caractères non autorisés.
agenda-bad-date = Cette date n'est pas valide (attendu : AAAA-MM-JJ).
agenda-bad-time = Cette heure n'est pas valide (attendu : HH:MM, la fin après le début).
agenda-bad-span = Les dates ne conviennent pas : la fin doit suivre le début, et un événement dure 120 jours au plus.
agenda-bad-place = Vous ne pouvez pas ajouter d'événement dans cet agenda.
