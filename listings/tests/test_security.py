"""Defences: sign-in lockout (django-axes), contact-form rate limits, two-factor sign-in."""

from collections import Counter

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "Correct-horse-battery-9"


class CountingHasher(PBKDF2PasswordHasher):
    """The usual hasher, counting how often a password is checked (the costly part)."""

    algorithm = "pbkdf2_sha256"
    checks = 0

    def verify(self, password, encoded):
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def staff(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["listings.tests.test_security.CountingHasher"]
    return django_user_model.objects.create_user(
        "owner", password=PASSWORD, is_staff=True, is_superuser=True
    )


def sign_in(client, username, password, address="203.0.113.5", **headers):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(client):
    return client.get("/admin/").status_code == 200


def test_after_five_failures_even_the_right_password_is_refused(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "owner", "wrong").status_code == 200  # the form again
    assert sign_in(client, "owner", "wrong").status_code == 429  # the fifth locks
    response = sign_in(client, "owner", PASSWORD)
    assert response.status_code == 429
    assert "Sign-in temporarily locked" in response.text
    assert "merchex administration" in response.text  # the admin's own page
    assert "locked for 15 minutes" in response.text
    assert response["Retry-After"] == "900"
    assert not signed_in(client)


def test_a_locked_out_attempt_hashes_no_password(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "owner", "wrong")
    CountingHasher.checks = 0
    for _ in range(20):
        assert sign_in(client, "owner", "wrong").status_code == 429
    assert CountingHasher.checks == 0


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        sign_in(client, "owner", "wrong", address="198.51.100.66")
    assert sign_in(client, "owner", PASSWORD, address="198.51.100.66").status_code == 429
    assert sign_in(client, "owner", PASSWORD, address="192.0.2.77").status_code == 302


def test_one_address_guessing_usernames_locks_nobody_else(client, staff, settings):
    """Behind a proxy without MERCHEX_TRUSTED_PROXIES every sign-in has the proxy's address:
    guesses at other names from it still leave the owner's own name open."""
    for number in range(settings.AXES_FAILURE_LIMIT * 2):
        sign_in(client, f"guess{number}", "wrong")
    assert sign_in(client, "owner", PASSWORD).status_code == 302


def test_a_forwarded_for_header_is_not_believed_without_a_trusted_proxy(client, staff, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "owner", "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    assert sign_in(client, "owner", PASSWORD).status_code == 429  # one address all along


def test_staff_unlock_an_account_with_a_command(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "owner", "wrong")
    call_command("axes_reset_username", "owner")
    assert sign_in(client, "owner", PASSWORD).status_code == 302
    assert signed_in(client)


def test_staff_unlock_from_the_admin(client, admin_client, staff, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "owner", "wrong")
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts
    response = admin_client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(client, "owner", PASSWORD).status_code == 302


def test_each_failure_is_logged_in_one_line(client, staff, caplog):
    with caplog.at_level("WARNING", logger="axes"):
        sign_in(client, "owner", "wrong")
        sign_in(client, "owner", "wrong again")
    failures = [r for r in caplog.records if "login failure" in r.getMessage().lower()]
    assert len(failures) == 2
    assert all("\n" not in r.getMessage() for r in failures)
    assert "wrong" not in caplog.text  # passwords are never logged


# Contact form: rate limits held in the shared cache

MESSAGE = {"name": "Ada", "email": "ada@example.com", "message": "Is the tee still in XL?"}


def send(client, address="203.0.113.9", **fields):
    return client.post(reverse("listings:contact"), {**MESSAGE, **fields}, REMOTE_ADDR=address)


def test_one_address_may_send_five_messages_an_hour(client, mailoutbox, settings):
    for _ in range(settings.MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR):
        assert send(client).status_code == 302
    response = send(client, message="One more, please?")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600 * 6 // 5 + 1  # a sliding hour: up to 72 min
    assert "yours was not sent" in response.text
    assert "One more, please?" in response.text  # what the fan typed is kept
    assert 'value="Ada"' in response.text
    assert len(mailoutbox) == settings.MERCHEX_CONTACT_PER_ADDRESS_PER_HOUR
    assert send(client, address="203.0.113.10").status_code == 302  # others still may


def test_an_hourly_ceiling_holds_across_addresses(client, mailoutbox, settings):
    settings.MERCHEX_CONTACT_PER_HOUR = 3
    statuses = [send(client, address=f"198.51.100.{n}").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert len(mailoutbox) == 3


def test_a_refused_message_counts_for_nobody(client, mailoutbox, settings):
    """One address sending a hundred messages closes the form for itself alone."""
    settings.MERCHEX_CONTACT_PER_HOUR = 10
    statuses = Counter(send(client).status_code for _ in range(100))
    assert statuses == {302: 5, 429: 95}
    assert send(client, address="198.51.100.7").status_code == 302  # another fan still may


def test_the_turn_of_the_hour_lets_no_burst_through(client, mailoutbox, settings, monkeypatch):
    """A sliding hour: five messages just before the hour turns still count just after it."""
    start = 1_800_000_000 // 3600 * 3600 + 3590  # ten seconds before an hour turns
    monkeypatch.setattr("listings.limits.time.time", lambda: start)
    assert [send(client).status_code for _ in range(5)] == [302] * 5
    monkeypatch.setattr("listings.limits.time.time", lambda: start + 20)  # the next hour
    refused = send(client)
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])  # a fifth of last hour gone: one of its five left it
    assert 700 <= wait <= 712
    monkeypatch.setattr("listings.limits.time.time", lambda: start + 20 + wait)
    assert send(client).status_code == 302
    assert send(client).status_code == 429


TWO_PROCESSES = r"""
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()
call_command("migrate", verbosity=0)
client = Client()
data = {"name": "Ada", "email": "ada@example.com", "message": "Hello"}
statuses = [client.post("/contact/", data, REMOTE_ADDR="192.0.2.1").status_code for _ in range(4)]
print(len(mail.outbox), statuses)
"""


def test_the_limit_holds_across_processes_through_the_shared_cache(manage, tmp_path):
    """Two separate processes (as two gunicorn workers) share the default cache."""
    env = {
        "CACHE_URL": None,  # the default cache: diskcache, shared through files
        "MERCHEX_CACHE_DIR": str(tmp_path / "cache"),
        "DJANGO_HTTPS": "false",
        "DJANGO_STATIC_MANIFEST": "false",
        "MERCHEX_TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",  # sent now
    }
    first = manage("shell", "--no-imports", "-c", TWO_PROCESSES, env=env, check=True)
    second = manage("shell", "--no-imports", "-c", TWO_PROCESSES, env=env, check=True)
    assert first.stdout.strip().splitlines()[-1] == "4 [302, 302, 302, 302]"
    assert second.stdout.strip().splitlines()[-1] == "1 [302, 429, 429, 429]"


# Two-factor sign-in (django-otp)


def totp_code(device):
    """The code an authenticator app shows now, computed as the app does (RFC 6238)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def with_second_factor(staff, capsys):
    call_command("setup2fa", "owner")
    out = capsys.readouterr().out
    from django_otp.plugins.otp_totp.models import TOTPDevice

    codes = out.split("keep them somewhere safe):")[1].split("\n")[1].split()
    return TOTPDevice.objects.get(user=staff), codes


def sign_in_with_code(client, code, username="owner"):
    return client.post(
        LOGIN,
        {"username": username, "password": PASSWORD, "otp_token": code, "next": "/admin/"},
        REMOTE_ADDR="203.0.113.5",
    )


def test_setup2fa_prints_a_qr_code_and_ten_backup_codes(with_second_factor, capsys):
    device, codes = with_second_factor
    assert len(codes) == 10
    assert device.config_url.startswith("otpauth://totp/merchex")


def test_staff_with_an_authenticator_must_give_its_code(client, with_second_factor):
    device, _ = with_second_factor
    response = sign_in_with_code(client, "")
    assert response.status_code == 200
    assert not signed_in(client)
    response = sign_in_with_code(client, totp_code(device))
    assert response.status_code == 302
    assert signed_in(client)


def test_a_wrong_code_is_refused_and_slows_the_next_try(client, with_second_factor):
    device, _ = with_second_factor
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    assert sign_in_with_code(client, wrong).status_code == 200
    assert not signed_in(client)
    response = sign_in_with_code(client, totp_code(device))  # at once: throttled
    assert "try again" in response.text.lower()
    assert not signed_in(client)


def test_a_backup_code_works_once(client, with_second_factor):
    _, codes = with_second_factor
    assert sign_in_with_code(client, codes[0]).status_code == 302
    assert signed_in(client)
    client.logout()
    assert sign_in_with_code(client, codes[0]).status_code == 200
    assert not signed_in(client)


def test_superusers_need_a_second_factor_when_the_setting_says_so(client, staff, settings):
    settings.MERCHEX_2FA_FOR_EDITORS = True
    response = sign_in_with_code(client, "")
    assert "must sign in with two factors" in response.text
    assert not signed_in(client)
    client.force_login(staff)  # a session with a password alone is not enough either
    assert not signed_in(client)


def test_staff_who_can_change_the_catalogue_need_a_second_factor(
    client, django_user_model, settings
):
    from listings.roles import sync_shop_staff

    settings.MERCHEX_2FA_FOR_EDITORS = True
    helper = django_user_model.objects.create_user("helper", password=PASSWORD, is_staff=True)
    helper.groups.add(sync_shop_staff())  # may change prices
    response = sign_in_with_code(client, "", username="helper")
    assert "must sign in with two factors" in response.text
    client.force_login(helper)
    assert not signed_in(client)


def test_staff_who_only_look_may_sign_in_with_a_password_alone(client, django_user_model, settings):
    settings.MERCHEX_2FA_FOR_EDITORS = True
    django_user_model.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    assert sign_in_with_code(client, "", username="viewer").status_code == 302
    assert signed_in(client)


def test_wrong_authenticator_codes_count_for_the_lockout(client, with_second_factor, settings):
    device, _ = with_second_factor
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        device.refresh_from_db()
        device.throttling_failure_count = 0  # django-otp's own delay aside: the lockout's count
        device.save()
        assert sign_in_with_code(client, "000000").status_code == 200
    device.throttling_failure_count = 0
    device.save()
    assert sign_in_with_code(client, "000000").status_code == 429  # the fifth locks
    device.throttling_failure_count = 0
    device.save()
    assert sign_in_with_code(client, totp_code(device)).status_code == 429


def test_setting_up_a_second_factor_signs_the_account_out_everywhere(client, staff):
    assert sign_in_with_code(client, "").status_code == 302
    assert signed_in(client)
    call_command("setup2fa", "owner", stdout=__import__("io").StringIO())
    assert not signed_in(client)
