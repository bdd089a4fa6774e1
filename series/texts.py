"""What the admin and the professional's agenda say about a series' changes: one wording for both
doors."""

from django.utils.translation import gettext, ngettext


def plan_changed():
    return gettext("The dates changed since the preview: check them again.")


def not_ticked():
    return gettext("Some dates clash: tick each one you agree to skip, or choose another time.")


def created(n):
    return ngettext(
        "Series created with %(n)d session.", "Series created with %(n)d sessions.", n
    ) % {"n": n}


def cancelled(n):
    return ngettext(
        "%(n)d session cancelled; the series has ended.",
        "%(n)d sessions cancelled; the series has ended.",
        n,
    ) % {"n": n}


def moved(n):
    return ngettext("%(n)d session moved.", "%(n)d sessions moved.", n) % {"n": n}
