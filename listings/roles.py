"""Staff roles: the "Shop staff" group holds exactly the catalogue's permissions.

An owner adds a helper with `manage.py addshopstaff NAME` (or ticks the group in the admin)
instead of hand-picking permissions. The group is brought in step after every `migrate`, so a
model added to CATALOGUE_MODELS brings its permissions to the group with its migration.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

SHOP_STAFF = "Shop staff"

# The models staff curate: the catalogue and the shop's information pages. Internal tables
# (the catalogue and page versions) are not for anyone to edit.
CATALOGUE_MODELS = ("band", "listing", "listingphoto", "infopage")


def catalogue_permissions():
    return Permission.objects.filter(
        content_type__app_label="listings", content_type__model__in=CATALOGUE_MODELS
    )


def sync_shop_staff(**kwargs):
    """Create the group if needed and give it exactly the catalogue's permissions."""
    ContentType.objects.clear_cache()  # content types created by this migrate run
    group, _ = Group.objects.get_or_create(name=SHOP_STAFF)
    group.permissions.set(catalogue_permissions())
    return group
