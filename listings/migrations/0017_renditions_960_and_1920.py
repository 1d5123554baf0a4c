from django.db import migrations

from listings.pictures import add_missing_renditions


def add_renditions(apps, schema_editor):
    """The 960 and 1920 px renditions for pictures stored before those widths existed."""
    photos = apps.get_model("listings", "ListingPhoto").objects
    bands = apps.get_model("listings", "Band").objects.exclude(picture="")
    pictures = {
        *photos.values_list("image", "image_width").distinct(),
        *bands.values_list("picture", "picture_width").distinct(),
    }
    add_missing_renditions(sorted((name, width) for name, width in pictures if width))


class Migration(migrations.Migration):
    dependencies = [("listings", "0016_pictures_from_one")]

    operations = [migrations.RunPython(add_renditions, migrations.RunPython.noop, elidable=True)]
