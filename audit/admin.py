"""The access log in the admin: superusers read it, filtered by who and by whose data, and take
a date range as CSV; nobody adds, changes or deletes an entry. `RecordsChangeViews` is the mixin
the admins of patients' data (reservations, series, users) use to write an entry per change page."""

import csv
import uuid
from datetime import datetime, time

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .log import viewed
from .models import AccessLog


class RecordsChangeViews:
    """For a ModelAdmin whose change page shows a person's data: each change page shown (a GET,
    or a form shown again with its errors) writes one VIEW entry, and so does each change saved
    (detail "changed"); never one per inline row, and nothing when it is the viewer's own.

    `access_log_subject(obj)` says whose data the object is (a User or an id)."""

    access_log_where = ""

    def access_log_subject(self, obj):
        raise NotImplementedError

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            viewed(request, self.access_log_subject(obj), obj, where=self.access_log_where)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_change(self, request, obj):
        viewed(
            request,
            self.access_log_subject(obj),
            obj,
            where=self.access_log_where,
            detail="changed",
        )
        return super().response_change(request, obj)


class PersonFilter(admin.SimpleListFilter):
    """One person, typed (an email address) or followed from a row's link (their id): a box, not
    a list of every user, so it works with thousands of patients."""

    template = "admin/audit/accesslog/person_filter.html"
    field = ""

    def lookups(self, request, model_admin):
        value = (self.value() or "").strip()
        if not value:
            return []
        # The person chosen, by name and email (a row's link carries only their id).
        try:
            person = get_user_model().objects.filter(pk=uuid.UUID(value)).first()
        except ValueError:
            person = get_user_model().objects.filter(email__iexact=value).first()
        return [(value, _label(person, value))]

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        try:
            return queryset.filter(**{f"{self.field}_id": uuid.UUID(value)})
        except ValueError:
            return queryset.filter(**{f"{self.field}__email__iexact": value})

    def choices(self, changelist):
        yield {
            "selected": bool(self.value()),
            "value": self.value() or "",
            "label": self.lookup_choices[0][1] if self.lookup_choices else "",
            "parameter_name": self.parameter_name,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            # The other filters in force, kept by the box's form.
            "others": [
                (k, v) for k, v in changelist.params.items() if k not in (self.parameter_name, "p")
            ],
        }


class ActorFilter(PersonFilter):
    title = _("who")
    parameter_name = "actor"
    field = "actor"


class SubjectFilter(PersonFilter):
    title = _("whose data")
    parameter_name = "subject"
    field = "subject"


def _label(user, user_id):
    """Name and email ("Ana Gómez <ana@example.com>"), the email alone, or an id."""
    if user is None:
        return str(user_id)
    if user.get_full_name():
        return f"{user.get_full_name()} <{user.email}>"
    return user.email


def _person(user, user_id, parameter):
    """A person's name and email, linked to the entries about them (the same filter)."""
    if user_id is None:
        return "—"
    label = _label(user, user_id)
    return format_html('<a href="?{}">{}</a>', urlencode({parameter: user_id}), label)


def _day(text):
    """A ?from= or ?to= date; None when absent; ValueError when it is not a date."""
    if not text:
        return None
    day = parse_date(text)  # ValueError for 2026-02-30
    if day is None:
        raise ValueError(text)
    return day


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula (a typed "address" may start with =)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Superusers read the log; nobody adds, changes or deletes an entry."""

    list_display = ("at", "kind", "who", "whose_data", "where", "opened", "ip", "request_id")
    list_filter = ("kind", ActorFilter, SubjectFilter, "at")
    search_fields = ("actor__email", "subject__email", "object_id", "request_id", "detail")
    list_select_related = ("actor", "subject")
    date_hierarchy = "at"
    raw_id_fields = ("actor", "subject")
    actions = None
    change_list_template = "admin/audit/accesslog/change_list.html"
    show_full_result_count = False

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("who"), ordering="actor__email")
    def who(self, obj):
        return _person(obj.actor, obj.actor_id, "actor")

    @admin.display(description=_("whose data"), ordering="subject__email")
    def whose_data(self, obj):
        return _person(obj.subject, obj.subject_id, "subject")

    @admin.display(description=_("object"))
    def opened(self, obj):
        if not obj.object_type:
            return ""
        label = f"{obj.object_type} {obj.object_id}"
        app_label, _dot, model_name = obj.object_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="audit_accesslog_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """CSV of a date range (?from=YYYY-MM-DD&to=YYYY-MM-DD, both included, days in the
        reader's time zone), optionally of one person (?actor=) or one patient (?subject=), as
        the list's filters take them."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = AccessLog.objects.select_related("actor", "subject").order_by("at", "id")
        zone = timezone.get_current_timezone()
        try:
            start, end = (_day(request.GET.get(name)) for name in ("from", "to"))
        except ValueError:
            return HttpResponseBadRequest(
                "from and to are dates: YYYY-MM-DD", content_type="text/plain"
            )
        if start:
            rows = rows.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
        if end:
            rows = rows.filter(at__lte=datetime.combine(end, time.max, tzinfo=zone))
        for person in (ActorFilter, SubjectFilter):
            if request.GET.get(person.parameter_name):
                one = person(request, {person.parameter_name: [request.GET[person.parameter_name]]},
                             AccessLog, self)  # fmt: skip
                rows = one.queryset(request, rows)
        writer = csv.writer(_Echo())
        header = [
            "at", "kind", "actor_id", "actor_email", "subject_id", "subject_email", "object_type",
            "object_id", "where", "path", "request_id", "ip", "detail",
        ]  # fmt: skip

        def email(user):
            return user.email if user is not None else ""

        def lines():
            yield writer.writerow(header)
            for e in rows.iterator(chunk_size=2000):
                yield writer.writerow(
                    _cell(value)
                    for value in (
                        e.at.isoformat(),
                        e.kind,
                        e.actor_id or "",
                        email(e.actor),
                        e.subject_id or "",
                        email(e.subject),
                        e.object_type,
                        e.object_id,
                        e.where,
                        e.path,
                        e.request_id,
                        e.ip or "",
                        e.detail,
                    )  # fmt: skip
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
