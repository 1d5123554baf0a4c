import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from listings import demo_pictures
from listings.management.commands.loaddemo import SEED_BANDS, SEED_LISTINGS
from listings.models import Band, Listing, ListingPhoto

pytestmark = pytest.mark.django_db


def test_loaddemo_loads_the_seed_chapters_data():
    call_command("loaddemo", verbosity=0)
    assert Listing.objects.get(title="Cut Copy t-shirt").band.name == "Cut Copy"
    assert Listing.objects.get(title="De La Soul tour poster").band.name == "De La Soul"
    assert Listing.objects.get(title="Foo Fighters single poster").band.name == "Foo Fighters"
    assert Band.objects.count() == len(SEED_BANDS)
    assert Listing.objects.count() == len(SEED_LISTINGS)


def test_loaddemo_twice_duplicates_nothing():
    call_command("loaddemo", bands=20, listings=300, big_band=50, pictures=False)
    counts = Band.objects.count(), Listing.objects.count()
    call_command("loaddemo", bands=20, listings=300, big_band=50, pictures=False)
    assert (
        (Band.objects.count(), Listing.objects.count())
        == counts
        == (
            len(SEED_BANDS) + 20,
            len(SEED_LISTINGS) + 300,
        )
    )


def test_loaddemo_builds_a_big_band(capsys):
    call_command("loaddemo", bands=10, listings=200, big_band=120, pictures=False)
    biggest = Band.objects.with_listing_count().order_by("-listing_count").first()
    assert biggest.listing_count == 120
    assert "listings: 200/200" in capsys.readouterr().out


def test_loaddemo_tops_up_synthetic_data():
    call_command("loaddemo", bands=5, listings=10, pictures=False)
    call_command("loaddemo", bands=8, listings=25, pictures=False)
    assert Band.objects.filter(name__startswith="Demo Band").count() == 8
    assert Listing.objects.filter(title__startswith="Demo item").count() == 25


@pytest.mark.django_db(transaction=True)
def test_loaddemo_leaves_bulk_data_analyzed_and_vacuumed():
    call_command("loaddemo", verbosity=0, bands=5, listings=50, pictures=False)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables "
                "WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"
            )
        else:
            cursor.execute("SELECT tbl FROM sqlite_stat1")
        tables = {row[0] for row in cursor.fetchall()}
    assert {"listings_band", "listings_listing"} <= tables


@pytest.mark.parametrize(
    "options", [{"bands": -1}, {"listings": 10}, {"bands": 2, "listings": 5, "big_band": 6}]
)
def test_loaddemo_rejects_bad_options(options):
    with pytest.raises(CommandError):
        call_command("loaddemo", **options)


def test_demoadmin_creates_a_superuser_with_a_random_password(capsys):
    call_command("demoadmin")
    out = capsys.readouterr().out
    password = out.split("password '")[1].split("'")[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser
    assert user.is_staff
    assert user.check_password(password)
    call_command("demoadmin")
    assert "already exists" in capsys.readouterr().out
    call_command("demoadmin", reset=True)
    user.refresh_from_db()
    assert not user.check_password(password)


@pytest.mark.django_db(transaction=True)
def test_listings_migrations_reverse_and_reapply(band):
    call_command("migrate", "listings", "zero", verbosity=0)
    call_command("migrate", verbosity=0)
    assert Band.objects.count() == 0
    call_command("loaddemo", verbosity=0)
    assert Listing.objects.filter(band__name="De La Soul").exists()


def test_addshopstaff_makes_a_helper_who_can_run_the_catalogue_only(capsys):
    call_command("addshopstaff", "helper")
    assert "Shop staff login: username 'helper', password '" in capsys.readouterr().out
    helper = get_user_model().objects.get(username="helper")
    assert helper.is_staff
    assert not helper.is_superuser
    assert helper.has_perms(["listings.change_band", "listings.delete_listing"])
    assert not helper.has_perm("auth.change_user")
    assert not helper.has_perm("auth.change_group")
    call_command("addshopstaff", "helper")  # again: no new password, still one group
    assert "'helper' is now shop staff." in capsys.readouterr().out
    assert helper.groups.count() == 1


def test_loaddemo_draws_pictures_and_shares_a_pool_with_bulk_data(media_root):
    call_command("loaddemo", bands=3, listings=40, verbosity=0)
    seed = Listing.objects.exclude(title__startswith="Demo item")
    assert not seed.filter(cover__isnull=True).exists()
    tee = Listing.objects.get(title="Cut Copy t-shirt")
    assert [(p.position, p.alt_text) for p in tee.photos.all()] == [
        (1, "Cut Copy t-shirt, front"),
        (2, "Cut Copy t-shirt, back: tour dates"),
    ]
    assert not Band.objects.filter(picture="").exists()
    bulk = ListingPhoto.objects.filter(listing__title__startswith="Demo item")
    assert bulk.count() == 40
    assert bulk.values("image").distinct().count() == len(Listing.Type.values)  # a pool
    files = len(list((media_root / "pictures").iterdir()))
    call_command("loaddemo", bands=3, listings=40, verbosity=0)  # again: nothing drawn twice
    assert len(list((media_root / "pictures").iterdir())) == files
    tees = seed.filter(type=Listing.Type.CLOTHING).count()  # each has a front and a back
    assert ListingPhoto.objects.count() == bulk.count() + seed.count() + tees


def test_demo_drawings_show_what_the_item_is():
    drawn = {
        title: demo_pictures.drawing(Listing.Type.MISC, title, "Cut Copy").tobytes()
        for title in ["Cut Copy tote bag", "Festival lanyard", "The Clash badge set", "Ticket"]
    }
    assert len(set(drawn.values())) == 4  # a bag, a lanyard and badges, not three tickets
    assert drawn["Ticket"] == demo_pictures.ticket("Cut Copy").tobytes()
    hoodie = demo_pictures.drawing(Listing.Type.CLOTHING, "De La Soul hoodie", "Cut Copy")
    assert hoodie.tobytes() != demo_pictures.tee("Cut Copy").tobytes()  # not a tee
    back = demo_pictures.drawing(Listing.Type.CLOTHING, "Hoodie", "Cut Copy", back=True)
    assert back.tobytes() == demo_pictures.hoodie("Cut Copy", back=True).tobytes()


def test_demo_drawings_keep_accents():
    # Pillow draws a missing letter as a box: "Björk" differs from "Bjork" only if "ö" is drawn.
    assert demo_pictures.logo("Björk").tobytes() != demo_pictures.logo("Bjork").tobytes()
