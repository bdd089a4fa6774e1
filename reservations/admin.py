"""The reception desk: the reservation list and form, and cancels that ask for a reason.
(Cancelling a professional's sessions over a range of days is an absence: scheduling/admin.py.)
Every change goes through the model's rules (Reservation.cancel, confirm, change); this module
only asks and shows."""

from datetime import datetime, time, timedelta

from allauth.account.adapter import get_adapter as get_account_adapter
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import enrolment
from accounts.admin import UserAdmin as BaseUserAdmin
from accounts.admin import require_recent_authentication
from accounts.models import User
from audit import log as access_log
from audit.admin import RecordsChangeViews

from .actions import ActionKind, Actor, recording
from .models import (
    ACTIVE_STATUSES,
    OVERLAP_MESSAGE,
    REASON_MAX_LENGTH,
    Lateness,
    Reservation,
    ReservationEvent,
    Status,
)

# The staff member's days: the middleware has activated their time zone.


def day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def when_text(reservation):
    """'10/03/2026 14:00–14:45' in the viewer's zone."""
    start = timezone.localtime(reservation.start_time)
    end = timezone.localtime(reservation.end_time)
    return f"{formats.date_format(start, 'SHORT_DATE_FORMAT')} {start:%H:%M}–{end:%H:%M}"


class WhenFilter(admin.SimpleListFilter):
    """Today and the days after unless another choice is made: what reception works on."""

    title = _("date")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("week", _("Next 7 days")),
            ("past", _("Past")),
            ("all", _("Any date")),
        ]

    def choices(self, changelist):
        # The filter's "All" is its default here, and means "from today".
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("From today"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        today = timezone.localdate()
        start, value = day_start(today), self.value()
        if value is None:
            return queryset.filter(start_time__gte=start)
        if value == "past":
            return queryset.filter(start_time__lt=start)
        days = {"today": (0, 1), "tomorrow": (1, 2), "week": (0, 7)}.get(value)
        if days is None:
            return queryset
        return queryset.filter(
            start_time__gte=day_start(today + timedelta(days=days[0])),
            start_time__lt=day_start(today + timedelta(days=days[1])),
        )


class ProfessionalFilter(admin.SimpleListFilter):
    """Lists professionals only: a plain FK filter would list every patient too."""

    title = _("professional")
    parameter_name = "professional"

    def lookups(self, request, model_admin):
        return [(str(u.pk), u.display_name) for u in professionals()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(professional_id=self.value())
        return queryset


def professionals():
    return User.objects.filter(professional_profile__isnull=False).select_related(
        "professional_profile"
    )


def _value_in_words(field, value):
    """One stored value of an event's `changes` as the admin reads it: a time in the viewer's
    zone and language, a choice by its label, yes/no, "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or value in ("True", "False"):
        return gettext("Yes") if value in (True, "True") else gettext("No")
    if isinstance(field, models.DateTimeField):
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return str(value)
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    return str(choices.get(value, value))


# Keys of an event's `changes` that name no field of the model changed.
CHANGE_LABELS = {"skipped": _("Dates skipped (numbers in the series)")}


def change_lines(event, model=Reservation):
    """An event in words, a line each: "Estado: Pendiente → Confirmado", "Inicio: 5 de enero de
    2026, 10:00 → 6 de enero de 2026, 10:00", rather than its `changes` as stored (JSON). `model`:
    whose fields the changes name (a series' events name the series')."""
    lines = []
    from_status, to_status = (getattr(event, f, "") for f in ("from_status", "to_status"))
    if from_status and to_status and from_status != to_status:
        lines.append(
            f"{gettext('Status')}: {Status(from_status).label} → {Status(to_status).label}"
        )
    for name, value in (event.changes or {}).items():
        try:
            field = model._meta.get_field(name)
            label = str(field.verbose_name)
        except FieldDoesNotExist:
            field, label = None, str(CHANGE_LABELS.get(name, name.replace("_", " ")))
        label = label[:1].upper() + label[1:]
        if isinstance(value, list) and len(value) == 2:
            if value[0] == value[1]:
                continue  # recorded whole (a series' rule), but this part did not change
            old, new = (_value_in_words(field, v) for v in value)
            lines.append(f"{label}: {old} → {new}")
        elif isinstance(value, list):
            lines.append(f"{label}: {', '.join(str(v) for v in value)}")
        else:
            lines.append(f"{label}: {_value_in_words(field, value)}")
    return lines


class EventInWords:
    """The admin's column and field for change_lines."""

    changes_of = Reservation

    @admin.display(description=_("what changed"))
    def what_changed(self, obj):
        lines = change_lines(obj, self.changes_of)
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))


class ReservationEventInline(EventInWords, admin.TabularInline):
    model = ReservationEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "channel", "reason", "what_changed")
    readonly_fields = fields
    ordering = ("at",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def cancelled_message(done, late):
    """What staff read after cancelling `done` sessions, `late` of them inside the notice."""
    message = ngettext("%(n)d reservation cancelled.", "%(n)d reservations cancelled.", done) % {
        "n": done
    }
    if late:
        message += " " + ngettext(
            "%(n)d was inside the notice period: recorded as a late cancellation by the practice.",
            "%(n)d were inside the notice period: recorded as late cancellations by the practice.",
            late,
        ) % {"n": late}
    return message


def overlap_message(clash):
    """Which booking is in the way: whose, with whom, when, and a link to it."""
    text = gettext(
        "This time overlaps the session of %(patient)s with %(professional)s on %(when)s."
    ) % {
        "patient": clash.client.name,
        "professional": clash.professional.display_name,
        "when": when_text(clash),
    }
    url = reverse("admin:reservations_reservation_change", args=[clash.pk])
    return format_html('{} <a href="{}">{}</a>', text, url, gettext("Open that session"))


class ReservationForm(forms.ModelForm):
    class Meta:
        model = Reservation
        # The admin narrows these to what may be edited (ReservationAdmin.get_readonly_fields).
        fields = (
            "client",
            "professional",
            "start_time",
            "end_time",
            "session_modality",
            "video_url",
            "status",
            "internal_notes",
        )

    def full_clean(self):
        super().full_clean()
        # Model.clean() says only that the time overlaps (the message the API and the database's
        # guard give too); reception needs to know with what.
        errors = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
        if not errors or not any(e.code == "overlap" for e in errors.as_data()):
            return
        clash = (
            self.instance.overlapping()
            .select_related("client", "professional__professional_profile")
            .order_by("start_time")
            .first()
        )
        if clash is not None:
            kept = [e for e in errors.as_data() if e.code != "overlap"]
            self._errors[NON_FIELD_ERRORS] = self.error_class(
                [*kept, ValidationError(overlap_message(clash), code="overlap")],
                error_class="nonfield",
                renderer=self.renderer,
            )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The patient reads it with the cancelled session."),
    )


class CancelOneForm(CancelForm):
    for_patient = forms.BooleanField(
        label=_("On the patient's behalf (they asked)"),
        required=False,
        help_text=_("Inside the notice period, the late cancellation is then the patient's."),
    )


@admin.register(Reservation)
class ReservationAdmin(RecordsChangeViews, admin.ModelAdmin):
    form = ReservationForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = (
        "start",
        "end",
        "patient_name",
        "professional_name",
        "session_modality",
        "status_badge",
        "attendance",
        "lateness",
    )
    list_filter = (WhenFilter, "status", "session_modality", ProfessionalFilter)
    search_fields = (
        "client__email__unaccent",
        "client__first_name__unaccent",
        "client__last_name__unaccent",
        "professional__email__unaccent",
        "professional__first_name__unaccent",
        "professional__last_name__unaccent",
        "professional__professional_profile__display_name__unaccent",
    )
    date_hierarchy = "start_time"
    autocomplete_fields = ("client", "professional")
    list_select_related = ("client", "professional__professional_profile")

    def get_queryset(self, request):
        # Each row's status badge says "Declined" for a turned-down request: in the same query.
        return super().get_queryset(request).with_declined()

    readonly_fields = (
        "id",
        "created_at",
        "attended",
        "late_cancellation",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    )
    fields = (
        "id",
        "client",
        "professional",
        "start_time",
        "end_time",
        "session_modality",
        "video_url",
        "status",
        "attended",
        "internal_notes",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
        "late_cancellation",
    )
    inlines = [ReservationEventInline]
    actions = ["confirm_selected", "cancel_selected"]
    list_per_page = 50
    show_full_result_count = False

    # Each reservation's page opened (or saved) goes to the access log, as the patient's data.
    access_log_where = "admin: reservation"

    def access_log_subject(self, obj):
        return obj.client_id

    # The list

    def get_ordering(self, request):
        # Ahead: the nearest first. Behind (or everything): the latest first.
        if request.GET.get(WhenFilter.parameter_name) in ("past", "all"):
            return ("-start_time",)
        return ("start_time",)

    @admin.display(description=_("start"), ordering="start_time")
    def start(self, obj):
        return formats.date_format(timezone.localtime(obj.start_time), "DATETIME_FORMAT")

    @admin.display(description=_("end"), ordering="end_time")
    def end(self, obj):
        end = timezone.localtime(obj.end_time)
        return f"{end:%H:%M} ({obj.duration_minutes} min)"

    @admin.display(description=_("patient"), ordering="client__last_name")
    def patient_name(self, obj):
        return obj.client.name

    @admin.display(description=_("professional"), ordering="professional__last_name")
    def professional_name(self, obj):
        return obj.professional.display_name

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        phase = obj.phase(timezone.now())
        return format_html(
            '<span class="turnos-badge turnos-badge--{}">{}</span>', phase.value, phase.label
        )

    @admin.display(description=_("attended"), boolean=True)
    def attendance(self, obj):
        return obj.attended

    @admin.display(description=_("late cancellation"))
    def lateness(self, obj):
        return obj.get_late_cancellation_display() if obj.late_cancellation else ""

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_cancel": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    # The form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only professionals may be booked "with"; the autocomplete asks accounts.admin, which
        # limits its answers the same way.
        if db_field.name == "professional":
            kwargs["queryset"] = professionals()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        if obj.status == Status.CANCELLED:
            # What happened stays as it was; the practice may still write its notes.
            return [name for name in self.fields if name != "internal_notes"]
        # Status changes go through confirm and cancel, which record who and when.
        return (*self.readonly_fields, "status")

    def has_delete_permission(self, request, obj=None):
        # Reservations are never deleted: cancel them.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DoubleBooked:
            # The form's own check passed, the database's did not: someone booked it meanwhile.
            self.message_user(request, OVERLAP_MESSAGE, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # The form has validated; the database's guard decides races (ValidationError then).
        try:
            if change:
                # Only what staff changed, so a patient's cancel written meanwhile is not undone.
                obj.change(form.changed_data, by=Actor.staff(request.user))
            else:
                obj.insert(by=Actor.staff(request.user))
        except ValidationError as exc:
            raise DoubleBooked from exc

    # Actions

    @admin.action(description=_("Confirm selected reservations"), permissions=["change"])
    def confirm_selected(self, request, queryset):
        by, now = Actor.staff(request.user), timezone.now()
        # One action: each patient hears once of all their sessions confirmed.
        with recording(ActionKind.CONFIRM, by=by, at=now) as action:
            done = sum(
                r.confirm(by=by, now=now, within=action)
                for r in queryset.filter(status=Status.PENDING)
            )
        self.message_user(
            request,
            ngettext("%(n)d reservation confirmed.", "%(n)d reservations confirmed.", done)
            % {"n": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Cancel selected reservations…"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        """Asks first (the selected sessions and a reason), then cancels each as staff."""
        sessions = (
            queryset.filter(status__in=ACTIVE_STATUSES)
            .select_related("client", "professional__professional_profile")
            .order_by("start_time")
        )
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            require_recent_authentication(request)  # a bulk cancel asks for the password again
            self._cancel_all(request, sessions, form.cleaned_data["reason"])
            return None  # back to the list
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel these sessions?"),
            "opts": self.opts,
            "sessions": [(r, when_text(r)) for r in sessions],
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(
            request, "admin/reservations/reservation/cancel_selected.html", context
        )

    def _cancel_all(self, request, sessions, reason):
        by, now = Actor.staff(request.user), timezone.now()
        done = late = 0
        # One action: each patient hears once of all their sessions cancelled.
        with recording(ActionKind.CANCEL, by=by, at=now, reason=reason) as action:
            for r in sessions:
                if r.cancel(by=by, reason=reason, now=now, within=action):
                    continue  # cancelled meanwhile by someone else
                done += 1
                late += r.late_cancellation != Lateness.ON_TIME
        self.message_user(request, cancelled_message(done, late), messages.SUCCESS)
        return done

    # A page of our own: cancel one session. (Cancelling a professional's sessions over some days
    # records those days as their absence: scheduling/admin.py adds that page.)

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name=f"{info}_cancel",
            ),
            *super().get_urls(),
        ]

    def cancel_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        change_url = reverse("admin:reservations_reservation_change", args=[obj.pk])
        if obj.status == Status.CANCELLED:
            self.message_user(request, gettext("Already cancelled"), messages.WARNING)
            return HttpResponseRedirect(change_url)
        form = CancelOneForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            refusal = obj.cancel(
                by=Actor.staff(request.user),
                reason=form.cleaned_data["reason"],
                for_patient=form.cleaned_data["for_patient"],
            )
            if refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                self.message_user(request, gettext("The session was cancelled."), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        inside_notice = obj.inside_notice(timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel this session?"),
            "opts": self.opts,
            "original": obj,
            "when": when_text(obj),
            "inside_notice": inside_notice,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/reservations/reservation/cancel.html", context)


class DoubleBooked(Exception):
    """A concurrent booking won the slot between the form's check and our write."""


@admin.register(ReservationEvent)
class ReservationEventAdmin(EventInWords, admin.ModelAdmin):
    list_display = ("at", "reservation", "action", "from_status", "to_status", "actor", "channel")
    fields = ("at", "reservation", "action", "actor", "channel", "reason", "what_changed")
    readonly_fields = fields
    list_filter = ("action", "channel", "at")
    search_fields = ("reservation__id", "actor__email", "reservation__client__email")
    date_hierarchy = "at"
    list_select_related = ("reservation__client", "actor")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# A person's page in the admin lists their sessions ahead and behind.


class SessionsInline(admin.TabularInline):
    """The patient's sessions, read-only, each a link to its page in the admin."""

    model = Reservation
    fk_name = "client"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("when", "professional_name", "session_modality", "status", "attended")
    readonly_fields = fields

    @admin.display(description=_("when"))
    def when(self, obj):
        return when_text(obj)

    @admin.display(description=_("professional"))
    def professional_name(self, obj):
        return obj.professional.display_name

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("professional__professional_profile")
            .filter(self.period(timezone.now()))
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class UpcomingSessionsInline(SessionsInline):
    verbose_name = _("upcoming session")
    verbose_name_plural = _("upcoming sessions")
    ordering = ("start_time",)

    @staticmethod
    def period(now):
        return Q(end_time__gt=now)


class PastSessionsInline(SessionsInline):
    verbose_name = _("past session")
    verbose_name_plural = _("past sessions")
    ordering = ("-start_time",)

    @staticmethod
    def period(now):
        return Q(end_time__lte=now)


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(RecordsChangeViews, BaseUserAdmin):
    inlines = [*BaseUserAdmin.inlines, UpcomingSessionsInline, PastSessionsInline]

    # A person's page (their details and their sessions) opened or saved goes to the access log.
    # Here rather than in accounts.admin, which sits below the access log in the layers.
    access_log_where = "admin: user"

    def access_log_subject(self, obj):
        return obj.pk

    def sessions_ended(self, request, user):
        access_log.record(
            request, access_log.Kind.SESSIONS_ENDED, subject=user, obj=user, where="admin: user"
        )

    # Two-step verification: a superuser resets someone's lost factor. Here rather than in
    # accounts/admin.py because it writes to the access log, which builds on accounts.
    def get_urls(self):
        return [
            path(
                "<path:object_id>/reset-factors/",
                self.admin_site.admin_view(self.reset_factors_view),
                name="accounts_user_reset_factors",
            ),
            *super().get_urls(),
        ]

    def reset_factors_view(self, request, object_id):
        """POST, superusers only, after confirming their own password or code: deletes the
        user's authenticators (app, passkeys, recovery codes), records it in the access log and
        tells the person by email. They log in with their password and set up a new factor."""
        if not request.user.is_superuser:
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None or not self.has_change_permission(request, user):
            raise Http404
        return self._reset_factors(request, user)

    def _reset_factors(self, request, user):
        require_recent_authentication(request)
        with transaction.atomic():
            enrolment.reset_factors(user)
            access_log.record(
                request, access_log.Kind.FACTOR_RESET, subject=user, obj=user, where="admin: user"
            )
            # Into the outbox with the rest (AccountAdapter.send_mail), in their language.
            with translation.override(user.language or settings.LANGUAGE_CODE):
                get_account_adapter(request).send_mail(
                    "mfa/email/factors_reset", user.email, {"user": user}
                )
        self.message_user(
            request,
            gettext(
                "Two-step verification of %(email)s was reset. They log in with their password "
                "and set it up again; they were told by email."
            )
            % {"email": user.email},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
