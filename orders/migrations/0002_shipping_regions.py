from decimal import Decimal

from django.conf import settings
from django.db import migrations

EUROPE = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "GB CH NO IS LI"
)


def add_regions(apps, schema_editor):
    """A starting point staff edit in the admin: home, Europe, and everywhere else."""
    region = apps.get_model("orders", "ShippingRegion")
    if region.objects.exists():
        return
    region.objects.create(
        name="Home",
        countries=settings.MERCHEX_HOME_COUNTRY,
        first_item=Decimal("4.50"),
        additional_item=Decimal("1.00"),
        position=1,
    )
    region.objects.create(
        name="Europe",
        countries=",".join(EUROPE.split()),
        first_item=Decimal("9.00"),
        additional_item=Decimal("2.00"),
        position=2,
    )
    region.objects.create(
        name="Rest of the world",
        everywhere_else=True,
        first_item=Decimal("15.00"),
        additional_item=Decimal("4.00"),
        position=3,
    )


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(add_regions, migrations.RunPython.noop)]
