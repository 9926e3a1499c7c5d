# News, noticeboard and staff room.

tile-news = News
tile-staffroom = Staff room
news-none = No news yet.
news-new = Publish news
news-place = For
news-place-school = The whole school
news-place-parents = Families
news-place-staff = Staff room (staff only)
news-title = Title
news-body = Text
news-make-public = Also show on the school's public page (no login)
news-publish = Publish
news-public = public
news-edit = Edit the post
news-withdraw = Withdraw this post

news-bad-title = Give a title (120 characters at most).
news-bad-body = Write the text (10,000 characters at most).
news-bad-place = You cannot publish there.
news-public-school-only = Only a post to the whole school can be shown on the public page.
news-photos = Photos (optional)
news-pictured = Pupils visible on the photos
news-pictured-hint = A photo may show only pupils whose family allowed publication (ONDE's “Autorisations photos”). The others are greyed out.
news-no-consent = no photo consent
news-photo-of = Photo: { $title }
news-too-many-photos = A post carries at most 10 photos.
news-photo-not-image = A photo must be an image (PNG, JPEG, GIF or WebP).
news-photo-no-consent = These photos cannot be published: the family of a visible pupil did not allow photo publication.
