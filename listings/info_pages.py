"""The shop's information pages: how buying works, shipping and returns, the privacy notice.

Staff edit them in the admin (listings.models.InfoPage). The footer of every page links these
three, so they always exist: a migration creates them with the text below, `loaddemo` brings
back any that is missing, and the admin does not delete them.
"""

BUYING, SHIPPING, PRIVACY = "buying", "shipping-and-returns", "privacy"

DEFAULTS = {
    BUYING: {
        "title": "How buying works",
        "summary": (
            "How to buy merch on merchex: ask about an item, we reply with the price and "
            "how to pay."
        ),
        "body": "\n\n".join(
            [
                "merchex is a catalogue of official band merch. Find an item you like, then "
                'use the "Ask the shop about this item" link on its page: the contact form '
                "opens with the item already named.",
                "We answer within two working days with the total price (shipping included), "
                "the sizes or pressings in stock and how to pay (bank transfer or card link). "
                "Nothing is charged until you confirm.",
                'Items marked "Sold out" are kept on the site so that you can see what a band '
                "has made; ask us anyway, a restock is sometimes possible.",
            ]
        ),
    },
    SHIPPING: {
        "title": "Shipping and returns",
        "summary": ("Where we ship, how long it takes, and how to return an item within 30 days."),
        "body": "\n\n".join(
            [
                "We ship worldwide from our warehouse. Orders leave within three working days "
                "of payment; delivery takes 2 to 5 days in Europe and 5 to 15 days elsewhere. "
                "Every parcel is tracked, and the tracking link comes by email.",
                "You may return any item within 30 days of delivery, unworn and in its "
                "packaging, for a full refund of its price. Write to us through the contact "
                "form first: we send the return address. Records and posters damaged in "
                "transit are replaced at our cost; keep the packaging and send us a photo.",
            ]
        ),
    },
    PRIVACY: {
        "title": "Privacy notice",
        "summary": (
            "What merchex does with the name and email address you give in the contact "
            "form, and nothing else."
        ),
        "body": "\n\n".join(
            [
                "The only personal data merchex collects is what you type into the contact "
                "form: your name, your email address and your message. We use them to answer "
                "you and, if you order, to send your order. We do not sell them, share them "
                "with advertisers or add you to any mailing list.",
                "Messages are kept for two years after our last exchange (longer only where "
                "the law requires it for an order), then deleted. You may ask at any time, "
                "through the contact form, to see, correct or delete what we hold about you.",
                "The site sets no tracking or advertising cookies. Staff who sign in to the "
                "admin get a session cookie; fans browsing the shop get none.",
            ]
        ),
    },
}


def ensure_info_pages():
    """Create any of the three pages that is missing, with its starting text. How many."""
    from listings.models import InfoPage

    created = 0
    for slug, fields in DEFAULTS.items():
        created += InfoPage.objects.get_or_create(slug=slug, defaults=fields)[1]
    return created
