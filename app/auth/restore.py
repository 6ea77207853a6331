"""Signing in during the deletion grace period keeps the account.

See app/users/deletion.py.
"""

from app import clock, events


def restore_if_deletion_pending(user):
    """Clear a pending deletion of `user`, in the caller's transaction; whether any."""
    if user.deletion_requested_at is None:
        return False
    user.deletion_requested_at = None
    user.updated_at = clock.now()
    events.emit(events.ACCOUNT_RESTORED, user_id=str(user.id))
    return True
