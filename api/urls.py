from functools import wraps

from django.http import Http404
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from .api import ERROR_MESSAGES, api, envelope_response


def _enveloped(view):
    """What ninja answers outside its operations, in the envelope: a plain-text 405 for a method
    it has no operation for, and the HTML 404 of its root URL."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return not_found(request)
        if response.status_code == 405 and not response["Content-Type"].startswith("application"):
            enveloped = envelope_response(request, 405, ERROR_MESSAGES[405])
            enveloped["Allow"] = response["Allow"]
            return enveloped
        return response

    return wrapper


@csrf_exempt  # it changes nothing; a POST to a wrong URL should be a 404, not a CSRF error
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
