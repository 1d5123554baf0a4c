"""Make the renditions stored pictures lack, after MERCHEX_RENDITION_WIDTHS changed."""

from django.core.management.base import BaseCommand

from listings.models import Band, ListingPhoto
from listings.pictures import add_missing_renditions


class Command(BaseCommand):
    help = "Make every rendition (MERCHEX_RENDITION_WIDTHS) that a stored picture lacks."

    def handle(self, *args, **options):
        pictures = {
            *ListingPhoto.objects.values_list("image", "image_width").distinct(),
            *Band.objects.exclude(picture="").values_list("picture", "picture_width").distinct(),
        }
        made = add_missing_renditions(sorted((name, width) for name, width in pictures if width))
        self.stdout.write(f"Renditions made for {made} of {len(pictures)} pictures.")
