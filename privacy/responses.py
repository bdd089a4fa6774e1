"""A patient's data as the doors hand it over: the JSON file, or the readable page (printable to
PDF), in the patient's language and zone. The portal, the agenda and the admin all answer
through these, so the three copies are the same."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from . import export


def _private(response):
    # Personal data: no cache anywhere keeps it, not even the browser's.
    patch_cache_control(response, private=True, no_store=True)
    return response


def json_file(patient, data):
    response = HttpResponse(export.as_json(data), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(patient)}"'
    return _private(response)


def page(request, patient, data, *, back_url, json_url):
    """The readable page, in the patient's language (a copy the practice prints for them too)."""
    language = patient.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(patient.zone):
        response = render(
            request,
            "privacy/export.html",
            {"data": data, "patient": patient, "back_url": back_url, "json_url": json_url},
        )
        response["Content-Language"] = language
    return _private(response)
