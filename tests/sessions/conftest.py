from datetime import timedelta

import pytest

from app import clock


@pytest.fixture
def move_clock(monkeypatch):
    """Move the app's clock forward: move_clock(seconds=11)."""
    offset = timedelta()
    real_now = clock.now

    def shifted():
        return real_now() + offset

    monkeypatch.setattr(clock, "now", shifted)

    def move(**delta):
        nonlocal offset
        offset += timedelta(**delta)

    return move
