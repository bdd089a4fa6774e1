"""Reception's side of each patient's data: the deletion requests with their legal deadline, to
carry out or refuse; and a patient's data exported when they ask the practice for it."""

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from audit.log import record
from audit.models import AccessLog

from . import erase, export, responses
from .models import DeletionRequest


class OpenFilter(admin.SimpleListFilter):
    """Open requests first: the list opens on those waiting for a decision."""

    title = _("status")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("1", _("Waiting for a decision")), ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or "1"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if (self.value() or "1") == "1":
            return queryset.open()
        return queryset


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("The patient reads it: e.g. the law that makes the practice keep the data."),
    )


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    list_display = ("patient", "requested_at", "deadline", "status", "decided_by", "decided_at")
    list_filter = (OpenFilter,)
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    readonly_fields = (
        "patient",
        "requested_at",
        "due_by",
        "status",
        "decided_by",
        "decided_at",
        "reason",
    )
    fields = readonly_fields
    change_form_template = "admin/privacy/deletionrequest/change_form.html"

    @admin.display(description=_("decide by"), ordering="due_by")
    def deadline(self, obj):
        if obj.is_overdue():
            return format_html(
                '<strong class="turnos-overdue">{} · {}</strong>',
                obj.due_by.isoformat(),
                gettext("overdue"),
            )
        return obj.due_by.isoformat()

    def has_add_permission(self, request):
        return False  # the patient asks, from their preferences

    def has_delete_permission(self, request, obj=None):
        return False  # the record of a request and its answer stays

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/carry-out/",
                wrap(never_cache(reauthentication_required(self.carry_out_view))),
                name="privacy_deletionrequest_carry_out",
            ),
            path(
                "<path:object_id>/refuse/",
                wrap(never_cache(reauthentication_required(self.refuse_view))),
                name="privacy_deletionrequest_refuse",
            ),
            path(
                "export/<uuid:user_id>/",
                wrap(reauthentication_required(self.export_view)),
                name="privacy_export",
            ),
            *super().get_urls(),
        ]

    def _open_request(self, request, object_id):
        """The request, if this person may decide it (change permission on it): else 404/403."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _page(self, request, obj, template, **context):
        return TemplateResponse(
            request,
            f"admin/privacy/deletionrequest/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": obj,
                "change_url": reverse("admin:privacy_deletionrequest_change", args=[obj.pk]),
                **context,
            },
        )

    def carry_out_view(self, request, object_id):
        """A confirmation page (what goes, what stays), then on POST the deletion itself."""
        obj = self._open_request(request, object_id)
        now = timezone.now()
        refusal = erase.refusal(obj, now)
        if request.method == "POST" and refusal is None:
            refusal = erase.carry_out(obj, by=request.user, now=now)
            if refusal is None:
                self.message_user(
                    request,
                    gettext("The patient's data was deleted, and they are told by email."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:privacy_deletionrequest_change", args=[obj.pk])
                )
        upcoming = list(erase.upcoming(obj.patient, now).order_by("start_time"))
        return self._page(
            request,
            obj,
            "carry_out.html",
            refusal=refusal,
            upcoming=upcoming,
            title=gettext("Carry out the deletion"),
        )

    def refuse_view(self, request, object_id):
        obj = self._open_request(request, object_id)
        form = RefuseForm(request.POST or None)
        if not obj.is_open:
            raise Http404
        if request.method == "POST" and form.is_valid():
            if obj.refuse(by=request.user, reason=form.cleaned_data["reason"]):
                self.message_user(request, gettext("The request was refused."), messages.SUCCESS)
            return HttpResponseRedirect(
                reverse("admin:privacy_deletionrequest_change", args=[obj.pk])
            )
        return self._page(
            request, obj, "refuse.html", form=form, title=gettext("Refuse the deletion")
        )

    def export_view(self, request, user_id):
        """A patient's data, when they ask the practice for it: the JSON file, or (?as=page) the
        readable page to print. Needs view permission on that user; written to the access log."""
        User = get_user_model()
        patient = User.objects.filter(pk=user_id).first()
        users = self.admin_site.get_model_admin(User)
        if patient is None or not users.has_view_permission(request, patient):
            raise Http404
        data = export.build(patient, practice=True)
        record(request, AccessLog.Kind.EXPORT, subject=patient, obj=patient, where="admin: export")
        url = reverse("admin:privacy_export", args=[patient.pk])
        if request.GET.get("as") == "page":
            back = reverse("admin:accounts_user_change", args=[patient.pk])
            return responses.page(request, patient, data, back_url=back, json_url=url)
        return responses.json_file(patient, data)
