# Actualités, tableau d'information et salle des profs.

tile-news = Actualités
tile-staffroom = Salle des profs
news-none = Aucune actualité pour l'instant.
news-new = Publier une actualité
news-place = Pour
news-place-school = Toute l'école
news-place-parents = Les familles
news-place-staff = Salle des profs (équipe seulement)
news-title = Titre
news-body = Texte
news-make-public = Afficher aussi sur la page publique de l'école (sans connexion)
news-publish = Publier
news-public = public
news-edit = Modifier l'actualité
news-withdraw = Retirer cette actualité

news-bad-title = Donnez un titre (120 caractères au plus).
news-bad-body = Écrivez le texte (10 000 caractères au plus).
news-bad-place = Vous ne pouvez pas publier à cet endroit.
news-public-school-only = Seule une actualité pour toute l'école peut être affichée sur la page publique.
