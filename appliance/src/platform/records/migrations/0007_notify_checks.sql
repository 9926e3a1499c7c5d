-- Notifications, checked again before they go: each notice names its document (its
-- service derives it again at sending time), and a person who unsubscribed is told
-- nothing, whatever topics come later, until she chooses again (her queued e-mails are
-- then 'cancelled', a fourth state of mail.state).
ALTER TABLE notice ADD COLUMN doc TEXT NOT NULL DEFAULT '';
ALTER TABLE notify_setting ADD COLUMN stopped INTEGER NOT NULL DEFAULT 0;
