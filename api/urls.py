from functools import wraps

from django.http import Http404
from django.urls import re_path
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .api import api, envelope_response
from .errors import ERROR_MESSAGES


def _enveloped(view):
    """What ninja answers outside its operations, in the envelope: a plain-text 405 for a method
    it has no operation for, and the HTML 404 of its root URL. And no answer is stored by a
    browser or a proxy: they are a patient's health appointments."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = not_found(request)
        if response.status_code == 405 and not response["Content-Type"].startswith("application"):
            allow = response["Allow"]
            response = envelope_response(request, 405, ERROR_MESSAGES[405])
            response["Allow"] = allow
        add_never_cache_headers(response)
        return response

    return wrapper


@csrf_exempt  # it changes nothing; a POST to a wrong URL should be a 404, not a CSRF error
@never_cache
def not_found(request):
    return envelope_response(request, 404, ERROR_MESSAGES[404])


api_patterns = api.urls[0]
for pattern in api_patterns:
    pattern.callback = _enveloped(pattern.callback)

app_name = api.urls_namespace  # ninja reverses its own URLs in this namespace
urlpatterns = [
    *api_patterns,
    # Anything else under /api/ is a 404 in the envelope, not the site's HTML page.
    re_path(r"^", not_found),
]
