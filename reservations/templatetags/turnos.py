from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def turn_day(value, now=None):
    """'hoy', 'mañana' or 'martes 10 de marzo', in the active (viewer's) time zone."""
    local = timezone.localtime(value)
    today = timezone.localtime(now or timezone.now()).date()
    if local.date() == today:
        return _("today")
    if local.date() == today + timedelta(days=1):
        return _("tomorrow")
    if local.date() == today - timedelta(days=1):
        return _("yesterday")
    day = date_format(local, "MONTH_DAY_FORMAT" if local.year == today.year else "DATE_FORMAT")
    # Translators: a weekday and a date, e.g. "martes 10 de marzo".
    return _("%(weekday)s %(date)s") % {"weekday": date_format(local, "l"), "date": day}


@register.filter
def turn_time(value):
    return date_format(timezone.localtime(value), "H:i")
