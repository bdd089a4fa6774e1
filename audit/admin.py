import csv
from datetime import datetime, time

from django.contrib import admin
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from .models import AccessLog


class _Echo:
    def write(self, value):
        return value


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Superusers read the log; nobody adds, changes or deletes an entry."""

    list_display = ("at", "kind", "actor", "subject", "where", "object_type", "object_id", "ip")
    list_filter = ("kind", "at")
    search_fields = ("actor__email", "subject__email", "object_id", "request_id", "detail")
    list_select_related = ("actor", "subject")
    date_hierarchy = "at"
    raw_id_fields = ("actor", "subject")
    actions = None

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

    def get_urls(self):
        from django.urls import path  # noqa: PLC0415

        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="audit_accesslog_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """CSV of a date range (?from=YYYY-MM-DD&to=YYYY-MM-DD, both included)."""
        from django.core.exceptions import PermissionDenied  # noqa: PLC0415

        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = AccessLog.objects.order_by("at", "id")
        zone = timezone.get_current_timezone()
        start = parse_date(request.GET.get("from", "") or "") if request.GET.get("from") else None
        end = parse_date(request.GET.get("to", "") or "") if request.GET.get("to") else None
        if start:
            rows = rows.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
        if end:
            rows = rows.filter(at__lte=datetime.combine(end, time.max, tzinfo=zone))
        writer = csv.writer(_Echo())
        header = [
            "at", "kind", "actor_id", "subject_id", "object_type", "object_id",
            "where", "path", "request_id", "ip", "detail",
        ]  # fmt: skip

        def lines():
            yield writer.writerow(header)
            for e in rows.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        e.at.isoformat(),
                        e.kind,
                        e.actor_id or "",
                        e.subject_id or "",
                        e.object_type,
                        e.object_id,
                        e.where,
                        e.path,
                        e.request_id,
                        e.ip or "",
                        e.detail,
                    ]  # fmt: skip
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="access-log.csv"'
        return response
