"""Find picture files that no row refers to (left by an interrupted upload, say)."""

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand

from listings.models import Band, ListingPhoto
from listings.pictures import FOLDER, file_names


def stored_names(folder):
    """Every file below `folder` in the storage (local disk or a bucket)."""
    if not default_storage.exists(folder):
        return
    folders, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for sub in folders:
        yield from stored_names(f"{folder}/{sub}")


class Command(BaseCommand):
    help = (
        "List the picture files (masters and renditions) that no band or listing photo refers "
        "to. A dry run unless --delete is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="Remove the files listed.")

    def handle(self, *args, delete, **options):
        known = set()
        rows = [
            *ListingPhoto.objects.values_list("image", "image_width").distinct(),
            *Band.objects.exclude(picture="").values_list("picture", "picture_width").distinct(),
        ]
        for name, width in rows:
            known.update(file_names(name, width or 0))
        orphans = [name for name in stored_names(FOLDER) if name not in known]
        for name in orphans:
            self.stdout.write(name)
            if delete:
                default_storage.delete(name)
        verb = "Removed" if delete else "Found (dry run; --delete removes them)"
        self.stdout.write(f"{verb}: {len(orphans)} file(s) no row refers to.")
