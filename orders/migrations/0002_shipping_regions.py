from django.db import migrations


def add_regions(apps, schema_editor):
    from orders.models import add_default_regions

    add_default_regions(apps.get_model("orders", "ShippingRegion"))


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [migrations.RunPython(add_regions, migrations.RunPython.noop)]
