"""The password pipeline: NFKC, HMAC pre-hash, bcrypt, policy."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth import passwords

ROUNDS = 4


def test_nfkc_equivalent_passwords_verify():
    stored = passwords.hash_password("ﬁnancial-password", ROUNDS)  # U+FB01 ligature
    assert passwords.verify_password("financial-password", stored)


def test_policy_refuses_common_and_short_and_long_and_email():
    assert passwords.policy_errors("password1")
    assert passwords.policy_errors("PASSWORD1")
    assert passwords.policy_errors("1234567")
    assert passwords.policy_errors("x" * 257)
    assert passwords.policy_errors("ada@example.com", email="Ada@Example.com")
    assert passwords.policy_errors("a good long passphrase") == []
    assert passwords.policy_errors(" " * 8 + "spaces ok") == []


def test_common_list_has_at_least_ten_thousand_entries():
    assert len(passwords.common_passwords()) >= 10_000


def test_verify_never_raises_on_garbage_hash():
    assert passwords.verify_password("whatever", "not-a-hash") is False
    assert passwords.verify_password("whatever", "") is False


def test_needs_rehash_reads_cost():
    stored = passwords.hash_password("a good long passphrase", ROUNDS)
    assert not passwords.needs_rehash(stored, ROUNDS)
    assert passwords.needs_rehash(stored, ROUNDS + 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=st.text(min_size=0, max_size=256), data=st.data())
def test_any_unicode_password_hashes_and_verifies(password, data):
    stored = passwords.hash_password(password, ROUNDS)
    assert passwords.verify_password(password, stored)
    assert not passwords.needs_rehash(stored, ROUNDS)
    if password:
        index = data.draw(st.integers(0, len(password) - 1))
        replacement = data.draw(st.sampled_from(string.ascii_letters + "é字"))
        changed = password[:index] + replacement + password[index + 1 :]
        if passwords.normalize(changed) != passwords.normalize(password):
            assert not passwords.verify_password(changed, stored)


@settings(max_examples=100, deadline=None)
@given(password=st.text(max_size=300), email=st.one_of(st.none(), st.emails()))
def test_policy_never_raises(password, email):
    assert isinstance(passwords.policy_errors(password, email=email), list)
