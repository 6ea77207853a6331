"""The transactional mail outbox: mails are rows, written with what causes them.

`enqueue` adds a mail to the caller's transaction (the service commits once); the
sender (`app.outbox.sender`) delivers due rows with back-off, in a thread of each
gunicorn worker or as `flask mail send`. Mail survives restarts and crashes: a row
leaves the table's pending state only once the SMTP server accepted it.
"""

from app.outbox.store import MailContent, enqueue, enqueue_request, register_preparer

__all__ = ["MailContent", "enqueue", "enqueue_request", "register_preparer"]
