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
news-photos = Photos (facultatif)
news-pictured = Élèves visibles sur les photos
news-pictured-hint = Une photo ne peut montrer que des élèves dont la famille a autorisé la publication (information ONDE « Autorisations photos »). Les autres sont grisés.
news-no-consent = pas d'autorisation photo
news-photo-of = Photo : { $title }
news-too-many-photos = Une actualité porte au plus 10 photos.
news-photo-not-image = Une photo doit être une image (PNG, JPEG, GIF ou WebP).
news-photo-no-consent = Ces photos ne peuvent pas être publiées : la famille d'un élève visible n'a pas autorisé la publication de photos.
