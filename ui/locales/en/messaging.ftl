# Messaging: conversations, moderation of pupils' messages.

tile-messages = Messages
tile-messages-unread = Messages ({ $count } unread)
messaging-new = New conversation
messaging-none = No conversation yet.
messaging-unread = { $count } unread
messaging-about = Write to the family of
messaging-family-of = the family of { $name }
messaging-to = To
messaging-subject = Subject
messaging-body = Message
messaging-send = Send
messaging-reply = Reply
messaging-waiting = Waiting for the teacher's approval.
messaging-refused = This message was not delivered.
messaging-approve = Deliver
messaging-refuse = Refuse
messaging-class-title = Class messaging — { $class }
messaging-moderated = Pupils' messages wait for my approval before they are delivered
messaging-classmates = Pupils may write to their classmates
messaging-held = Messages waiting for approval
messaging-none-held = No message waiting.

messaging-bad-subject = Give the conversation a subject (120 characters at most).
messaging-bad-body = Write the message (5,000 characters at most).
messaging-not-allowed = You cannot write to these people together. Choose among the recipients offered.
messaging-attach = Attach files (optional, 5 at most)
messaging-classmates-closed = Your teacher has closed messages between the class's pupils: this conversation can still be read, but no longer written in.
