"""Helpers for tests that drive admin forms as a browser would."""

from html.parser import HTMLParser

# What a browser posts besides the fields a test types: the management forms of a listing's
# inlines with no rows (no pictures; no option rows: a new listing gets its one-size option when
# it commits, an existing one keeps its own), and the fields left at their initial value.
FORM_DEFAULTS = {
    "max_per_order": "10",
    "photos-TOTAL_FORMS": "0",
    "photos-INITIAL_FORMS": "0",
    "variants-TOTAL_FORMS": "0",
    "variants-INITIAL_FORMS": "0",
}


class FormFields(HTMLParser):
    """The name/value pairs a browser submits from the page's main form (id ending "_form"):
    text inputs, hidden inputs, ticked boxes, selected options and textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data = {}
        self.in_form = False
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = (attrs.get("id") or "").endswith("_form")
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and name and "__prefix__" not in name:
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea" and name and "__prefix__" not in name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            # A browser drops the one newline that follows <textarea>.
            text = self.data[self.textarea] + data
            self.data[self.textarea] = text.removeprefix("\n")


def change_form_data(response):
    """What a browser posts back from an admin change page, unchanged."""
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser.data


def sign_in_verified(client, user):
    """Sign `user` in with a second factor, as the sign-in form does after a right code: staff
    who can change the catalogue need one in production (MERCHEX_2FA_FOR_EDITORS)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="tests", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
