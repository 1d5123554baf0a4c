"""The admin site: two-factor sign-in for staff (django-otp: TOTP apps and backup codes).

Staff who have set up an authenticator (`manage.py setup2fa NAME`) must give its code, or one of
their backup codes, at every sign-in. With MERCHEX_2FA_FOR_EDITORS (on in production) superusers
and staff who can change the catalogue must have set one up: without a verified second factor
they are not let in. A wrong code counts as a failed sign-in for the lockout (django-axes).
"""

import functools
import logging

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import DataError, connection
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

SECURITY_APPS = {"axes", "otp_static", "otp_totp"}

logger = logging.getLogger(__name__)


def has_second_factor(user):
    return any(devices_for_user(user, confirmed=True))


def is_editor(user):
    """Who can change what fans see or are charged: two factors for them (the setting)."""
    return user.is_superuser or any(
        user.has_perm(f"listings.change_{model}") for model in ("listing", "band", "variant")
    )


def needs_second_factor(user):
    return has_second_factor(user) or (settings.MERCHEX_2FA_FOR_EDITORS and is_editor(user))


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Password first; then, for staff with an authenticator, its code or a backup code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].label = "Authenticator code"
        self.fields["otp_token"].help_text = (
            "The 6 digits your authenticator app shows, or one of your backup codes. "
            "Leave empty if you have not set up two-factor sign-in."
        )
        self.fields["otp_token"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric"}
        )

    def choose_device(self, user):
        """Name the device the code is for, by its shape: 6 digits from the authenticator app,
        anything else one of the backup codes (django-otp checks it is this user's)."""
        token = (self.cleaned_data.get("otp_token") or "").strip()
        model = TOTPDevice if len(token) == 6 and token.isdigit() else StaticDevice
        device = model.objects.filter(user=user, confirmed=True).first()
        self.cleaned_data["otp_device"] = device.persistent_id if device else None

    def clean(self):
        self.cleaned_data = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        if user is not None and needs_second_factor(user):
            if not has_second_factor(user):
                raise ValidationError(
                    "Staff who can change the shop must sign in with two factors, and this "
                    "account has none set up yet: ask the shop's owner to run `manage.py "
                    "setup2fa` for it.",
                    code="second_factor_missing",
                )
            self.choose_device(user)
            try:
                self.clean_otp(user)
            except ValidationError:  # a wrong code is a failed sign-in: the lockout counts it
                credentials = {"username": self.cleaned_data.get("username")}
                user_login_failed.send(__name__, credentials=credentials, request=self.request)
                raise
        return self.cleaned_data


def is_key(model, value):
    """Whether `value` (from a form) can be a primary key of `model` in the database: Django's
    bulk actions filter by the chosen ids unchecked, and "abc" or 2**64 would be a 500."""
    field = model._meta.pk
    try:
        key = field.to_python(value)
    except ValidationError:
        return False
    if not isinstance(key, int):
        return True
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    return (low is None or key >= low) and (high is None or key <= high)


class MerchexAdminSite(admin.AdminSite):
    site_header = "merchex administration"
    site_title = "merchex admin"
    login_form = StaffLoginForm
    login_template = "admin/merchex_login.html"

    def get_app_list(self, request, app_label=None):
        """The sign-in security apps (lockouts, authenticators, backup codes) as one section."""
        apps = super().get_app_list(request, app_label)
        security = [app for app in apps if app["app_label"] in SECURITY_APPS]
        if len(security) < 2:
            return apps
        merged = {**security[0], "name": "Sign-in security"}
        models = [model for app in security for model in app["models"]]
        merged["models"] = sorted(models, key=lambda model: model["name"])
        return sorted(
            [app for app in apps if app not in security] + [merged],
            key=lambda app: app["name"].lower(),
        )

    def admin_view(self, view, cacheable=False):
        """Every admin page. Rows chosen for an action that cannot exist, and a changelist or
        its export filtered by a value the database cannot take (an id past 2**63 on SQLite,
        the year 0, a field the list does not have), go back to the list with a message, as
        Django answers a filter it cannot read, not a 500; so does a form posted with an id
        past 2**63 on SQLite, to itself."""
        inner = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)  # a ModelAdmin's view, or the site's

        @functools.wraps(inner)
        def wrapper(request, *args, **kwargs):
            selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            # Staff only: anyone else is sent to sign in by Django's own check, first.
            if (
                isinstance(model_admin, admin.ModelAdmin)
                and self.has_permission(request)
                and not all(is_key(model_admin.model, value) for value in selected)
            ):
                messages.warning(request, "The rows chosen are not rows of this list.")
                return HttpResponseRedirect(request.get_full_path())
            try:
                return inner(request, *args, **kwargs)
            except (OverflowError, ValueError, DataError, IncorrectLookupParameters) as exc:
                name = request.resolver_match.url_name or ""
                exporting = name.endswith("_export")
                if request.method == "POST" and isinstance(exc, OverflowError) and not exporting:
                    # SQLite cannot compare a number past 2**63, and Django's forms look the
                    # ids posted up unchecked; the admin's views write in one transaction.
                    logger.warning("admin: %s posted a number out of range: %r", request.path, exc)
                    messages.error(request, "A number in the form is out of range: nothing saved.")
                    return HttpResponseRedirect(request.get_full_path())
                # A list's filters are its query string; an export takes the list's filters.
                if not (exporting or request.method == "GET" and name.endswith("_changelist")):
                    raise
                if set(request.GET) <= {ERROR_FLAG}:
                    raise  # the list itself fails: a bug, not a filter
                logger.warning("admin: %s could not use its filters: %r", request.path, exc)
                messages.warning(request, "That filter has a value this list cannot use.")
                if exporting:
                    name = name.removesuffix("_export") + "_changelist"
                url = reverse(f"{self.name}:{name}")
                return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")

        return wrapper

    def has_permission(self, request):
        """Staff, and for editors (with the setting) verified by a second factor.

        Other staff with an authenticator need no check here: the sign-in form asks them for
        its code, and `setup2fa` ends the sessions they had before they set it up.
        """
        if not super().has_permission(request):
            return False
        user = request.user
        if settings.MERCHEX_2FA_FOR_EDITORS and is_editor(user):
            return user.is_verified()
        return True
