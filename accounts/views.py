from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
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
        messages.success(
            request,
            _("Saved. Times are now shown in %(city)s time.")
            % {"city": zone_city(form.instance.time_zone)},
        )
        return redirect("preferences")
    return render(request, "accounts/preferences.html", {"form": form})
