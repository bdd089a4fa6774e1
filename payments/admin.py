"""Reception's side of payments: each professional's price and policy (edited here), and the
payments Mercado Pago reported, read-only (they change only by what its API says), filtered by
status and date. A payment's change page shows whose session it is: it writes the access log."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from audit.admin import RecordsChangeViews

from .models import Payment, PaymentPolicy, Refund


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(admin.ModelAdmin):
    list_display = ("professional", "price", "currency", "collect", "late_keeps")
    list_filter = ("collect", "late_keeps")
    list_select_related = ("professional",)
    fieldsets = (
        (None, {"fields": ("professional",)}),
        (_("Price"), {"fields": ("currency", "price", "price_virtual", "price_in_person")}),
        (
            _("Paying when booking"),
            {"fields": ("collect", "deposit_percent", "deposit_amount", "late_keeps")},
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # The currency is the account's (ARS): shown, not chosen. A policy stays its
        # professional's.
        return ("currency", "professional") if obj else ("currency",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "professional":
            kwargs["queryset"] = get_user_model().objects.filter(professional_profile__isnull=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Nothing online is "Nothing online", kept with its prices; never a row gone.
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("created_at", "amount", "status", "mp_refund_id", "idempotency_key")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(RecordsChangeViews, admin.ModelAdmin):
    list_display = (
        "created_at",
        "mp_payment_id",
        "reservation",
        "status",
        "amount",
        "currency",
        "amount_refunded",
    )
    list_filter = ("status", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("mp_payment_id",)
    list_select_related = ("reservation__client",)
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [RefundInline]
    access_log_where = "admin: payment"

    def access_log_subject(self, obj):
        return obj.reservation.client_id

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
