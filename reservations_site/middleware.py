"""Site-wide response headers that no single door should have to remember."""

from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """An answer to a logged-in person carries their data (sessions, names, links to join): no
    browser cache on a shared computer nor a proxy may keep it. A view that chose its own
    Cache-Control (a professional's photo, kept an hour in the browser) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if "Cache-Control" not in response and user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
