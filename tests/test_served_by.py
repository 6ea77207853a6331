"""SERVED_BY (test setups only): every answer names its host; unset, none does."""

import pytest

from tests.urls import HEALTH, ME


def test_no_host_header_by_default(client):
    assert "X-Served-By" not in client.get(HEALTH).headers


@pytest.mark.config(SERVED_BY="host-a")
def test_every_answer_names_the_host_when_set(client):
    assert client.get(HEALTH).headers["X-Served-By"] == "host-a"
    # Errors too: the answer of a refused request names its host as well.
    response = client.get(ME)
    assert response.status_code == 401
    assert response.headers["X-Served-By"] == "host-a"
