from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .forms import PreferencesForm
from .models import zone_city


@never_cache
@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        language = form.cleaned_data["language"]
        if language:
            # The confirmation already speaks the language just chosen.
            translation.activate(language)
        messages.success(
            request,
            _("Saved. Times are now shown in %(city)s time.")
            % {"city": zone_city(form.instance.time_zone)},
        )
        response = redirect("preferences")
        if language:
            _remember_language(response, language)
        return response
    return render(request, "accounts/preferences.html", {"form": form})


def _remember_language(response, language):
    # The cookie LocaleMiddleware reads, set as django.views.i18n.set_language (the footer's
    # switcher) sets it: the page and the footer keep one choice between them.
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
