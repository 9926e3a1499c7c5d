# Agenda: school, class and personal events; holidays; iCalendar subscription.

tile-agenda = Calendar
agenda-from = From { $date }
agenda-later = Later
agenda-none = No event in this period.
agenda-holiday = holidays
agenda-feed = Subscribe from a calendar
agenda-feed-hint = This secret address lets a calendar application (phone, computer) show your events. Do not share it; change it if it leaked: the old one will stop working.
agenda-feed-create = Create my subscription address
agenda-feed-renew = Change the address (the old one will stop working)
agenda-new = Add an event
agenda-place = Calendar
agenda-place-school = The school
agenda-place-personal = My personal calendar
agenda-title = Title
agenda-starts = First day
agenda-start-time = Start time (optional)
agenda-ends = Last day (optional)
agenda-end-time = End time (optional)
agenda-location = Place
agenda-description = Details
agenda-is-holiday = School holidays
agenda-add = Add
agenda-withdraw = Withdraw this event

agenda-bad-title = Give the event a title (120 characters at most).
agenda-bad-text = The text is too long or holds characters that are not allowed.
agenda-bad-date = This date is not valid (expected YYYY-MM-DD).
agenda-bad-time = This time is not valid (expected HH:MM, the end after the start).
agenda-bad-span = The dates do not fit: the end must follow the start, and an event lasts 120 days at most.
agenda-bad-place = You cannot add an event to this calendar.
