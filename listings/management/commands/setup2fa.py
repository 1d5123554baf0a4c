"""Set up two-factor sign-in for a staff account: an authenticator app and backup codes."""

import io
from importlib import import_module

import qrcode
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 10


class Command(BaseCommand):
    help = (
        "Give USERNAME an authenticator (TOTP) for signing in to the admin, and 10 backup codes "
        "(each works once). Prints the QR code to scan and the codes, once. Replaces any set up "
        "before, and signs the account out everywhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_staff:
            raise CommandError(f"No staff account named {username!r}.")
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        totp = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        backup = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
        ended = sign_out_everywhere(user)
        code = qrcode.QRCode(border=1)
        code.add_data(totp.config_url)
        picture = io.StringIO()
        code.print_ascii(out=picture)
        self.stdout.write(f"Scan this with an authenticator app for {username!r}:\n")
        self.stdout.write(picture.getvalue())
        self.stdout.write(f"or enter this address by hand:\n{totp.config_url}\n")
        self.stdout.write("Backup codes (each works once; keep them somewhere safe):")
        self.stdout.write("  " + "  ".join(codes))
        self.stdout.write(f"{ended} earlier session(s) of {username!r} ended.")


def sign_out_everywhere(user):
    """End every session of `user`: none of them may outlive a change of sign-in factors."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            store(session.session_key).delete()  # from the cache too, where it is read from
            ended += 1
    return ended
