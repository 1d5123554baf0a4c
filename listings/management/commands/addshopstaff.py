"""Add a helper as shop staff: a staff account in the "Shop staff" group, nothing more."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from listings.roles import sync_shop_staff


class Command(BaseCommand):
    help = (
        "Make USERNAME shop staff: staff status and the 'Shop staff' group (bands and listings, "
        "nothing else). Creates the account with a random password, printed once, if it is new."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        password = None
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.email = email
        user.is_staff = user.is_active = True
        user.save()
        user.groups.add(sync_shop_staff())
        if password:
            login = f"Shop staff login: username '{username}', password '{password}'"
            self.stdout.write(self.style.SUCCESS(login))
        else:
            self.stdout.write(self.style.SUCCESS(f"'{username}' is now shop staff."))
