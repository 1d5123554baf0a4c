"""Give a newcomer a way into the admin: a superuser with a fresh random password, printed once."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' with a new random password and print it. Does nothing if a "
        "superuser already exists, unless --reset is given (then admin's password is replaced)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--reset", action="store_true", help="Set a new random password.")

    def handle(self, *args, username, reset, **options):
        User = get_user_model()
        if not reset and User.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                "A superuser already exists. New password for 'admin': make admin-password"
            )
            return
        password = secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Admin login: username '{username}', password '{password}'")
        )
