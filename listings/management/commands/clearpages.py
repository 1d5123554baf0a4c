from django.core.management.base import BaseCommand

from listings import caching


class Command(BaseCommand):
    help = (
        "Drop every cached fan page: after a change made outside merchex (raw SQL, a restored "
        "backup) or a deploy, the next request of each page renders it afresh."
    )

    def handle(self, *args, **options):
        caching.bump_everything()
        self.stdout.write("Cached pages dropped: each is rendered afresh on its next request.")
