"""Issue 25: one entry per zone. The preferences page and the admin list the tz database's
Area/City zones, each place once, without "localtime", "Factory", "UTC" and the older aliases."""

import pytest

from accounts.models import listed_zones, time_zone_choices

from .conftest import csrf_client
from .test_preferences import page, read_select, save

pytestmark = pytest.mark.django_db

NOT_ZONES_TO_PICK = [
    "localtime",
    "Factory",
    "UTC",
    "Etc/UTC",
    "Universal",
    "Zulu",
    "GMT",
    "Etc/GMT+3",
    "US/Eastern",
    "Cuba",
    "America/Buenos_Aires",  # the old alias of America/Argentina/Buenos_Aires
    "Europe/Nicosia",  # Asia/Nicosia's other name
]


def test_the_preferences_list_has_one_entry_per_zone(patient):
    options = read_select(page(csrf_client(patient), "en")).options
    listed = [value for group, value, *_rest in options if group != "Common"]
    assert len(listed) == len(set(listed))
    for name in NOT_ZONES_TO_PICK:
        assert name not in listed
    labels = [label for group, _value, label, *_rest in options if group != "Common"]
    assert len(labels) == len(set(labels))  # no city twice, whatever its region
    assert labels.count("Buenos Aires (GMT-3)") == 1
    common = [value for group, value, *_rest in options if group == "Common"]
    assert common[0] == "America/Argentina/Buenos_Aires"


def test_the_admins_list_has_one_entry_per_zone_with_the_sites_first(settings):
    values = [value for value, _label in time_zone_choices()]
    assert values[0] == "America/Argentina/Buenos_Aires"
    assert len(values) == len(set(values)) == len(listed_zones())
    for name in NOT_ZONES_TO_PICK:
        assert name not in values
    assert {"Europe/Madrid", "America/Montevideo", "Asia/Tokyo"} <= set(values)


def test_a_name_not_listed_is_refused_and_nothing_changes(patient):
    response = save(csrf_client(patient), time_zone="Factory", language="en")
    assert response.status_code == 200
    assert read_select(response.content.decode()).attrs["aria-invalid"] == "true"
    patient.refresh_from_db()
    assert patient.time_zone == "America/Argentina/Buenos_Aires"
