from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """Every message: what, to whom, whether it went. Read-only; failed ones can be retried."""

    list_display = (
        "created_at",
        "kind",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind", "channel", "created_at")
    search_fields = ("to",)
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    actions = ["retry"]
    # The text through `text`, which hides what carries a secret (a link that opens an account).
    readonly_fields = [f.name for f in Outbox._meta.fields if f.name not in ("body", "html")] + [
        "text"
    ]
    exclude = ("body", "html")

    @admin.display(description=_("text"))
    def text(self, obj):
        if obj.carries_secret:
            return _("[redacted: it carries a link that opens an account]")
        return obj.body

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Retry the selected failed messages"), permissions=["view"])
    def retry(self, request, queryset):
        from .tasks import schedule

        now = timezone.now()
        with transaction.atomic():
            ids = Outbox.retry(queryset, now)
            transaction.on_commit(lambda: schedule([(pk, now) for pk in ids], now))
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again.",
                "%(count)d messages will be sent again.",
                len(ids),
            )
            % {"count": len(ids)},
            messages.SUCCESS if ids else messages.WARNING,
        )
