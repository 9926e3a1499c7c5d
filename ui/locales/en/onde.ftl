# ONDE extraction import: problems shown to the school director, always with the line number
# (line 1 holds the column titles).

onde-empty = The file is empty: it holds no pupil, guardian or teacher row.
onde-too-large = The file is too large: Préau accepts at most { $max_mib } MB and { $max_rows } rows per import. Split the school into several files if needed.
onde-unsupported-encoding = The file is saved as "Unicode Text" (UTF-16), which Préau cannot read. Save it again as "CSV (semicolon delimited)".
onde-unknown-header = The first line matches no known file. Préau expects an ONDE extraction of pupils, guardians or teachers, or a simple list with the columns "Nom;Prénom;Date de naissance;Sexe".
onde-missing-column = The column "{ $column }" is missing from the file's first line.
onde-missing-value = The column "{ $column }" must be filled in.
onde-bad-date = "{ $value }" is not a valid date (expected: DD/MM/YYYY).
onde-bad-sex = The sex "{ $value }" is not recognised (expected: M or F).
onde-bad-yes-no = In the column "{ $column }", "{ $value }" is not recognised (expected: Oui, Non or an empty cell).
onde-bad-encoding = In the column "{ $column }", "{ $value }" holds unreadable characters: the file probably mixes two encodings. Export it again from ONDE without editing it, or save it again as "CSV UTF-8".
onde-unbalanced-quote = A quotation mark (") opened on this line is never closed: the rest of the file cannot be read correctly.
onde-missing-fields = This line has { $found } columns while the first line announces { $expected }: it was probably cut. Export the file from ONDE again without editing it.
onde-extra-fields = This line has { $found } columns while the first line announces only { $expected }: a semicolon may have slipped into a value.
onde-partial-child-block = The details of child number { $child } are incomplete: each child takes four columns (usage name, family name, first name, class).
onde-no-child = This guardian is linked to no child.
onde-duplicate-pupil = This pupil already appears on line { $first_line } (same family name, first name and birth date).
onde-bad-row = This line cannot be read ({ $detail }).
