"""Staff roles: the "Shop staff" group holds exactly the catalogue's permissions.

An owner adds a helper with `manage.py addshopstaff NAME` (or ticks the group in the admin)
instead of hand-picking permissions. The group is brought in step after every `migrate`, so a
model added to CATALOGUE_MODELS brings its permissions to the group with its migration.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

SHOP_STAFF = "Shop staff"

# The models staff curate: the catalogue, its options and the shop's information pages.
CATALOGUE_MODELS = ("band", "listing", "listingphoto", "variant", "infopage")
# What they may do with orders: see them, ship them (change), see why a count is what it is and
# edit shipping rates. Refunds ("refund_order") are the owner's to give.
SHOP_PERMISSIONS = [
    ("listings", "view_stockchange"),
    ("orders", "view_order"),
    ("orders", "change_order"),
    ("orders", "view_orderline"),
    ("orders", "view_shippingregion"),
    ("orders", "change_shippingregion"),
]


def catalogue_permissions():
    shop = Q()
    for app, codename in SHOP_PERMISSIONS:
        shop |= Q(content_type__app_label=app, codename=codename)
    catalogue = Q(content_type__app_label="listings", content_type__model__in=CATALOGUE_MODELS)
    return Permission.objects.filter(catalogue | shop)


def sync_shop_staff(**kwargs):
    """Create the group if needed and give it exactly the catalogue's permissions."""
    ContentType.objects.clear_cache()  # content types created by this migrate run
    group, _ = Group.objects.get_or_create(name=SHOP_STAFF)
    group.permissions.set(catalogue_permissions())
    return group
