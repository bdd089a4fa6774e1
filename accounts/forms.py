import functools
import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.contrib.auth.forms import SetPasswordForm
from django.forms.utils import flatatt
from django.utils import timezone, translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import (
    ZONE_REGIONS,
    ProfessionalProfile,
    User,
    listed_zone,
    listed_zones,
    zone_label,
    zone_region,
)

# What patients here pick, after the site's own zone and before their current one: Argentina's
# big cities, the neighbours and a few more of Latin America, and Spain.
COMMON_ZONES = [
    "America/Argentina/Buenos_Aires",
    "America/Argentina/Cordoba",
    "America/Argentina/Mendoza",
    "America/Montevideo",
    "America/Santiago",
    "America/Asuncion",
    "America/Sao_Paulo",
    "America/La_Paz",
    "America/Lima",
    "America/Bogota",
    "America/Mexico_City",
    "Europe/Madrid",
    "Atlantic/Canary",
]

# Offsets change only at transitions, and today's rules put every transition on a quarter hour
# of UTC (local whole or half hours, offsets in quarters): a table built at the start of a
# quarter is right for all of it.
QUARTER_SECONDS = 15 * 60

AVAILABLE = zoneinfo.available_timezones()


@functools.lru_cache(maxsize=2)
def zone_table_of(quarter):
    """Every listed zone's label, and each region's (zone, label) list by label, for one
    quarter hour (accounts.models.listed_zones: one entry per place, no old aliases).

    Building it costs 20 to 60 ms here (480 zone_label calls), so once a quarter hour per
    process, not per request.
    """
    at = datetime.fromtimestamp(quarter * QUARTER_SECONDS, UTC)
    zones = dict.fromkeys([settings.TIME_ZONE, *listed_zones()])
    labels = {zone: zone_label(zone, at) for zone in zones if zone in AVAILABLE}
    regions = {region: [] for region in [*ZONE_REGIONS, None]}
    for zone, label in labels.items():
        regions[zone_region(zone)].append((zone, label))
    for choices in regions.values():
        choices.sort(key=lambda choice: (choice[1].casefold(), choice[0]))
    return labels, regions


def zone_table():
    return zone_table_of(int(timezone.now().timestamp() // QUARTER_SECONDS))


def zone_choices(current=None):
    """The common zones first, then every region's: ids as values, "City (GMT-3)" as labels."""
    labels, regions = zone_table()
    common = dict.fromkeys([settings.TIME_ZONE, *COMMON_ZONES, listed_zone(current)])
    return [
        (_("Common"), [(zone, labels[zone]) for zone in common if zone in labels]),
        *((ZONE_REGIONS[region], regions[region]) for region in ZONE_REGIONS),
        # The site's zone, when an operator chose one outside the regions ("UTC").
        *([(_("Other zones"), regions[None])] if regions[None] else []),
    ]


class ZoneSelect(forms.Widget):
    """A <select> of zone_choices(), with the zone shown among the common ones.

    Written here rather than through forms.Select: Django normalizes every choice and renders
    each option through a template, which for these ~680 options cost about 40 ms a page; this
    costs about 2 ms. The whole page: 107 ms before this list, 59 ms with forms.Select, 13 ms.
    """

    def use_required_attribute(self, initial):
        # A required <select> must start with an empty option (HTML spec), as forms.Select says.
        return False

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        html = [format_html("<select{}>", flatatt(attrs))]
        selected = listed_zone(value) or value  # an old alias shows as its city's zone
        for group, options in zone_choices(current=value):
            html.append(format_html('<optgroup label="{}">', group))
            for zone, label in options:
                mark = ""
                if zone == selected:
                    mark, selected = " selected", None  # the first only, as forms.Select does
                html.append(f'<option value="{escape(zone)}"{mark}>{escape(label)}</option>')
            html.append("</optgroup>")
        html.append("</select>")
        return mark_safe("\n".join(html))  # noqa: S308 (each part escaped above)


class ZoneField(forms.CharField):
    widget = ZoneSelect
    default_error_messages = {"invalid_choice": _("Choose a time zone from the list.")}

    def to_python(self, value):
        # An old alias (America/Buenos_Aires, as an older page or a bookmark may send) is saved
        # as the listed zone of its city; anything else is kept, for validate to judge.
        value = super().to_python(value)
        return listed_zone(value) or value

    def validate(self, value):
        super().validate(value)
        if value and value not in zone_table()[0]:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )


class LanguageSelect(forms.Select):
    """Each language named in itself and marked so, for screen readers to pronounce it right."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["lang"] = value
        return option


def language_choices():
    # As the footer's switcher names them: "Español de Argentina", "English".
    return [
        (code, capfirst(translation.get_language_info(code)["name_local"]))
        for code, _name in settings.LANGUAGES
    ]


class PreferencesForm(forms.ModelForm):
    time_zone = ZoneField(
        label=_("Time zone"),
        help_text=_(
            "Every date and time in Turnos is shown in this zone. Choose the one where you are "
            "when you attend your sessions."
        ),
    )
    # The user's: their pages, emails, reminders and calendar speak it. Optional, so a form
    # without it (an older page) changes the zone only and leaves the language as it was.
    language = forms.ChoiceField(
        required=False,
        label=_("Language"),
        widget=LanguageSelect,
        help_text=_("The language of these pages and of the emails and calendar we send you."),
    )

    field_order = ["time_zone", "language", "reminders_enabled"]

    class Meta:
        model = User
        fields = ["time_zone", "language", "reminders_enabled"]
        labels = {"reminders_enabled": _("Email reminders")}
        help_texts = {
            "reminders_enabled": _(
                "An email before each session. Messages about a change (booked, confirmed, "
                "moved, cancelled) always arrive."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices()
        # Not chosen yet (blank): the language these pages speak now.
        self.initial["language"] = self.instance.language or translation.get_language()
        # Reminders are a patient's: professionals get their agenda, not reminders.
        if ProfessionalProfile.objects.filter(user=self.instance).exists():
            del self.fields["reminders_enabled"]

    def clean_language(self):
        return self.cleaned_data["language"] or self.instance.language


class InvitationPasswordForm(SetPasswordForm):
    """Django's, for a first password: no "new" in its labels (there is no old one), and our
    voseo where Django's Spanish says "introduzca"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Password")
        self.fields["new_password2"].label = _("Password (again)")
        self.fields["new_password2"].help_text = _("Type the same password again, to check it.")
