"""Series in the admin: created after a preview of every date and its clashes; from a series or
one of its sessions, "cancel this and later" and "change the time of this and later", each with a
preview. The views only read the form and call the series' own functions (series/services.py,
Series.cancel_from, Series.plan_move, Series.move_from), which the professional's agenda calls too.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.admin import RecordsChangeViews
from reservations.actions import Actor
from reservations.models import Reservation
from scheduling.admin import ReservationAdmin as BaseReservationAdmin

from . import flow, texts
from .forms import FORM_FIELDS, MoveForm, minutes_from_hours, session_minutes_for
from .models import Occurrence, Series, SeriesEvent, SkippedOccurrence
from .services import create_series, preview_series


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OccurrenceInline(ReadOnlyInline):
    model = Occurrence
    fields = ("number", "session", "status")
    readonly_fields = fields
    ordering = ("index",)

    @admin.display(description=_("number in the series"))
    def number(self, obj):
        return obj.index + 1

    @admin.display(description=_("session"))
    def session(self, obj):
        url = reverse("admin:reservations_reservation_change", args=[obj.reservation_id])
        start = timezone.localtime(obj.reservation.start_time)
        return format_html('<a href="{}">{}</a>', url, f"{start:%d/%m/%Y %H:%M}")

    @admin.display(description=_("status"))
    def status(self, obj):
        return obj.reservation.get_status_display()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reservation")


class SkippedInline(ReadOnlyInline):
    model = SkippedOccurrence
    fields = ("number", "start", "action", "reason", "agreed_by", "at")
    readonly_fields = fields

    @admin.display(description=_("number in the series"))
    def number(self, obj):
        return obj.index + 1

    @admin.display(description=_("skipped with the consent of"))
    def agreed_by(self, obj):
        # The worker met the clash while extending the series: nobody agreed, staff should look.
        return obj.consented_by or gettext("Nobody: found by the worker, to review")


class SeriesEventInline(ReadOnlyInline):
    model = SeriesEvent
    fields = ("at", "action", "from_index", "actor", "channel", "reason", "changes")
    readonly_fields = fields
    ordering = ("at",)


class ActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_at__isnull=False)
        return queryset


@admin.register(Series)
class SeriesAdmin(RecordsChangeViews, admin.ModelAdmin):
    list_display = ("patient_name", "professional_name", "rule", "starts_on", "ends", "is_active")
    list_filter = (ActiveFilter, "session_modality")
    search_fields = (
        "client__email",
        "client__first_name",
        "client__last_name",
        "professional__email",
        "professional__last_name",
        "professional__professional_profile__display_name",
    )
    autocomplete_fields = ("client", "professional")
    list_select_related = ("client", "professional__professional_profile")
    inlines = [OccurrenceInline, SkippedInline, SeriesEventInline]
    change_form_template = "admin/series/series/change_form.html"
    fields = (
        *FORM_FIELDS,
        "time_zone",
        "created_by",
        "created_at",
        "ended_at",
        "ended_by",
        "end_reason",
    )

    # A series' page opened (or saved) goes to the access log, as the patient's data.
    access_log_where = "admin: series"

    def access_log_subject(self, obj):
        return obj.client_id

    @admin.display(description=_("patient"), ordering="client__last_name")
    def patient_name(self, obj):
        return obj.client.name

    @admin.display(description=_("professional"))
    def professional_name(self, obj):
        return obj.professional.display_name

    @admin.display(description=_("series"))
    def rule(self, obj):
        return obj.label()

    @admin.display(description=_("until"))
    def ends(self, obj):
        if obj.count:
            return ngettext("%(n)d session", "%(n)d sessions", obj.count) % {"n": obj.count}
        return obj.ends_on or "—"

    @admin.display(description=_("active"), boolean=True)
    def is_active(self, obj):
        return obj.active

    def get_readonly_fields(self, request, obj=None):
        # A series changes through "cancel this and later" and "change time of this and later",
        # which check and record each session; never by editing its fields.
        if obj is not None:
            return self.fields
        return ()

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/cancel-from/", view(self.cancel_from_view), name="series_cancel"
            ),
            path("<path:object_id>/move-from/", view(self.move_from_view), name="series_move"),
            *super().get_urls(),
        ]

    def _render(self, request, template, context):
        return TemplateResponse(
            request,
            f"admin/series/series/{template}",
            {**self.admin_site.each_context(request), "opts": self.model._meta, **context},
        )

    # Create, after a preview

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = self.get_form(request, None, fields=FORM_FIELDS)
        form = form_class(request.POST if request.method == "POST" else None)
        minutes_from_hours(form)
        now = None
        if request.method == "POST" and form.is_valid():
            fields = {name: form.cleaned_data[name] for name in FORM_FIELDS}
            if fields["minutes"] is None:
                fields["minutes"] = session_minutes_for(fields["professional"])
            try:
                _series, plan = preview_series(**fields)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                by = Actor.staff(request.user)
                now = flow.step(
                    request.POST,
                    plan,
                    lambda skip: create_series(**fields, by=by, skip_clashes=skip),
                    confirming="_confirm" in request.POST,
                )
                if now.done is not None:
                    series = now.done
                    self.message_user(
                        request, texts.created(series.occurrences.count()), messages.SUCCESS
                    )
                    return HttpResponseRedirect(
                        reverse("admin:series_series_change", args=[series.pk])
                    )
        adminform = helpers.AdminForm(form, [(None, {"fields": FORM_FIELDS})], {})
        return self._render(
            request,
            "add.html",
            {
                "title": _("Add series"),
                "adminform": adminform,
                "form": form,
                "media": self.media + adminform.media,
                "step": now,
                "add": True,
            },
        )

    # This and later

    def _series_and_index(self, request, object_id):
        series = self.get_object(request, object_id)
        if series is None:
            raise Http404
        if not self.has_change_permission(request, series):
            raise PermissionDenied
        now = timezone.now()
        choices = [(str(o.index), _occurrence_label(o)) for o in series.upcoming_from(0, now)]
        data = request.POST if request.method == "POST" else request.GET
        start = data.get("from", "")
        if start not in dict(choices):
            # The next session; or, none being left, the dates the worker has not created yet.
            start = choices[0][0] if choices else str(series.next_index())
        return series, int(start), choices, now

    def cancel_from_view(self, request, object_id):
        series, index, choices, now = self._series_and_index(request, object_id)
        error = None
        if request.method == "POST":
            result = series.cancel_from(
                index,
                by=Actor.staff(request.user),
                reason=request.POST.get("reason", ""),
                now=now,
            )
            if result.refusal is None:
                self.message_user(request, texts.cancelled(len(result.cancelled)), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:series_series_change", args=[series.pk]))
            error = str(result.refusal)
        return self._render(
            request,
            "cancel_from.html",
            {
                "title": _("Cancel this and later sessions"),
                "series": series,
                "original": series,
                "choices": choices,
                "index": index,
                "sessions": [o.reservation for o in series.upcoming_from(index, now)],
                "error": error,
            },
        )

    def move_from_view(self, request, object_id):
        series, index, choices, now = self._series_and_index(request, object_id)
        data = request.POST if request.method == "POST" else request.GET
        form = MoveForm(data if "weekday" in data else None, initial=MoveForm.initial_for(series))
        pairs, current = None, None
        if form.is_bound and form.is_valid():
            rule = (form.cleaned_data["weekday"], form.cleaned_data["local_time"])
            minutes = form.cleaned_data["minutes"]
            _moved, pairs = series.plan_move(index, *rule, now, minutes)

            def move(skip):
                return series.move_from(
                    index,
                    *rule,
                    by=Actor.staff(request.user),
                    now=now,
                    skip_clashes=skip,
                    minutes=minutes,
                )

            try:
                current = flow.step(
                    data, [p for _, p in pairs], move, confirming=request.method == "POST"
                )
            except ValidationError as exc:  # the series ended meanwhile
                current = flow.Step(plan=[p for _, p in pairs], digest="", ticked=set())
                current.error = " ".join(exc.messages)
            if current.done is not None:
                self.message_user(request, texts.moved(len(current.done)), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:series_series_change", args=[series.pk]))
        # Each date beside where its session is now (the plan may have been made anew).
        now_at = {o.index: o.reservation.start_time for o, _ in pairs or []}
        rows = [(p, now_at.get(p.index)) for p in current.plan] if current else None
        return self._render(
            request,
            "move_from.html",
            {
                "title": _("Change the time of this and later sessions"),
                "series": series,
                "original": series,
                "choices": choices,
                "index": index,
                "form": form,
                "step": current,
                "rows": rows,
            },
        )


def _occurrence_label(occurrence):
    start = timezone.localtime(occurrence.reservation.start_time)
    return f"#{occurrence.index + 1} · {start:%d/%m/%Y %H:%M}"


# A session's page says which series it belongs to, with the same two actions.
# (Its base is scheduling.admin's, which has the add page.)

admin.site.unregister(Reservation)


@admin.register(Reservation)
class ReservationAdmin(BaseReservationAdmin):
    actions = [*BaseReservationAdmin.actions, "cancel_series_from", "move_series_from"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return (*fields, "series_session") if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "series_session")

    @admin.display(description=_("series"))
    def series_session(self, obj):
        occurrence = Occurrence.objects.filter(reservation=obj).select_related("series").first()
        if occurrence is None:
            return "—"
        series = occurrence.series
        query = f"?from={occurrence.index}"
        return format_html(
            '<a href="{}">{}</a> (#{}) · <a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:series_series_change", args=[series.pk]),
            series.label(),
            occurrence.index + 1,
            reverse("admin:series_cancel", args=[series.pk]) + query,
            gettext("Cancel this and later sessions"),
            reverse("admin:series_move", args=[series.pk]) + query,
            gettext("Change the time of this and later sessions"),
        )

    def _one_occurrence(self, request, queryset):
        occurrences = list(Occurrence.objects.filter(reservation__in=queryset))
        if len(occurrences) != 1 or queryset.count() != 1:
            self.message_user(request, _("Select one session of a series."), messages.WARNING)
            return None
        return occurrences[0]

    @admin.action(
        description=_("Cancel this and later sessions of its series"), permissions=["change"]
    )
    def cancel_series_from(self, request, queryset):
        occurrence = self._one_occurrence(request, queryset)
        if occurrence:
            url = reverse("admin:series_cancel", args=[occurrence.series_id])
            return HttpResponseRedirect(f"{url}?from={occurrence.index}")
        return None

    @admin.action(
        description=_("Change the time of this and later sessions of its series"),
        permissions=["change"],
    )
    def move_series_from(self, request, queryset):
        occurrence = self._one_occurrence(request, queryset)
        if occurrence:
            url = reverse("admin:series_move", args=[occurrence.series_id])
            return HttpResponseRedirect(f"{url}?from={occurrence.index}")
        return None
