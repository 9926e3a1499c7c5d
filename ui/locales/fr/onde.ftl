# Import des extractions ONDE : problèmes signalés au directeur ou à la directrice,
# toujours accompagnés du numéro de ligne (la ligne 1 est celle des titres de colonnes).

onde-empty = Le fichier est vide : il ne contient aucune ligne d'élève, de responsable ou d'enseignant.
onde-too-large = Le fichier est trop volumineux : Préau accepte au plus { $max_mib } Mo et { $max_rows } lignes par import. Importez l'école en plusieurs fichiers si besoin.
onde-unsupported-encoding = Le fichier est enregistré en « Texte Unicode » (UTF-16), que Préau ne sait pas lire. Réenregistrez-le au format « CSV (séparateur : point-virgule) ».
onde-unknown-header = La première ligne ne correspond à aucun fichier connu. Préau attend une extraction ONDE des élèves, des responsables ou des enseignants, ou une liste simple avec les colonnes « Nom;Prénom;Date de naissance;Sexe ».
onde-missing-column = La colonne « { $column } » est absente de la première ligne du fichier.
onde-missing-value = La colonne « { $column } » doit être remplie.
onde-bad-date = La date « { $value } » n'est pas une date valide (attendu : JJ/MM/AAAA).
onde-bad-sex = Le sexe « { $value } » n'est pas reconnu (attendu : M ou F).
onde-bad-yes-no = Dans la colonne « { $column } », « { $value } » n'est pas reconnu (attendu : Oui, Non ou une case vide).
onde-bad-encoding = Dans la colonne « { $column } », « { $value } » contient des caractères illisibles : le fichier mélange sans doute deux encodages. Exportez-le à nouveau depuis ONDE sans le retoucher, ou réenregistrez-le en « CSV UTF-8 ».
onde-unbalanced-quote = Un guillemet (") ouvert sur cette ligne n'est jamais refermé : la suite du fichier ne peut pas être lue correctement.
onde-missing-fields = Cette ligne compte { $found } colonnes alors que la première ligne en annonce { $expected } : elle a sans doute été coupée. Exportez de nouveau le fichier depuis ONDE sans le retoucher.
onde-extra-fields = Cette ligne compte { $found } colonnes alors que la première ligne n'en annonce que { $expected } : un point-virgule s'est peut-être glissé dans une valeur.
onde-partial-child-block = Les informations de l'enfant n° { $child } sont incomplètes : chaque enfant occupe quatre colonnes (nom d'usage, nom de famille, prénom, classe).
onde-no-child = Ce responsable n'est rattaché à aucun enfant.
onde-duplicate-pupil = Cet élève figure déjà à la ligne { $first_line } (mêmes nom, prénom et date de naissance).
onde-bad-row = Cette ligne ne peut pas être lue ({ $detail }).
