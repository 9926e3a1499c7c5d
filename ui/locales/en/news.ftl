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
