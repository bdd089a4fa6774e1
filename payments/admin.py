"""Reception's side of payments: each professional's price and policy (edited here), and the
payments Mercado Pago reported, read-only (they change only by what its API says), filtered by
status, method and date. A payment's change page shows whose session it is: it writes the access
log.

Two pages of reception's own, each only asking and showing (payments/rules.py decides and writes):
- a payment's "Refund" (all or part of what is left, with a reason the patient reads), through
  Mercado Pago, or recorded at once for a payment by other means, given back by hand;
- a session's "Record a payment by other means" (cash, transfer), from its page in the admin: the
  session's admin is re-registered here with that page and its payments listed."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.admin import RecordsChangeViews
from audit.log import viewed
from reservations.actions import Actor
from reservations.admin import when_text
from reservations.models import Reservation, Status
from series.admin import ReservationAdmin as BaseReservationAdmin

from . import rules
from .forms import PaidByHandForm, RefundForm
from .ledger import amount_to_pay, money_text
from .mercadopago import MercadoPagoError
from .models import RECEIVED, Method, Payment, PaymentPolicy, Refund, RefundStatus


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
    fields = (
        "created_at",
        "amount",
        "status",
        "reason",
        "requested_by",
        "mp_refund_id",
        "idempotency_key",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(RecordsChangeViews, admin.ModelAdmin):
    list_display = (
        "created_at",
        "method",
        "mp_payment_id",
        "reservation",
        "status",
        "amount",
        "currency",
        "amount_refunded",
    )
    list_filter = ("status", "method", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("mp_payment_id",)
    list_select_related = ("reservation__client",)
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [RefundInline]
    access_log_where = "admin: payment"

    def access_log_subject(self, obj):
        return obj.reservation.client_id

    def has_add_permission(self, request):
        # Recorded from a session's page (paid by other means), or heard from Mercado Pago.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Refunds

    def may_refund(self, request, payment=None):
        return self.has_view_permission(request, payment) and request.user.has_perm(
            "payments.add_refund"
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.may_refund(request, obj) and rules.left_to_refund(obj) > 0:
            context["refund_url"] = reverse("admin:payments_payment_refund", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_payment_refund",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id):
        """All or part of what is left of a payment given back, with a reason the patient reads.
        The form carries the refund's idempotency key: sent twice, it refunds once."""
        if not self.may_refund(request):
            raise PermissionDenied
        payment = self.get_object(request, unquote(object_id))
        if payment is None:
            raise Http404
        if not self.may_refund(request, payment):
            raise PermissionDenied
        change_url = reverse("admin:payments_payment_change", args=[payment.pk])
        if request.method == "POST":
            # The same form sent again: its refund exists already (made, or waiting for Mercado
            # Pago), whatever is left now.
            key = request.POST.get("key", "")
            made = Refund.objects.filter(idempotency_key=key).first() if key else None
            if made is not None:
                return self._sent_again(request, payment, made, change_url)
        left = rules.left_to_refund(payment)
        if left <= 0:
            self.message_user(
                request, gettext("Nothing is left to refund of this payment."), messages.WARNING
            )
            return HttpResponseRedirect(change_url)
        form = RefundForm(request.POST if request.method == "POST" else None, left=left)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            return self._refund(request, payment, data["amount"], data["reason"], data["key"])
        viewed(request, payment.reservation.client_id, payment, where="admin: refund")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refund this payment"),
            "opts": self.opts,
            "original": payment,
            "reservation": payment.reservation,
            "when": when_text(payment.reservation),
            "by_hand": payment.method != Method.MERCADOPAGO,
            "amount": money_text(payment.amount),
            "left": money_text(left),
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/payments/payment/refund.html", context)

    def _sent_again(self, request, payment, made, change_url):
        if made.payment_id != payment.pk:
            raise PermissionDenied  # a key that is not this form's
        if made.status != RefundStatus.REQUESTED:
            self.message_user(
                request,
                gettext("This refund was made already: it is not made twice."),
                messages.INFO,
            )
            return HttpResponseRedirect(change_url)
        # Mercado Pago did not answer last time: asked again with the same key, it refunds once.
        return self._refund(request, payment, made.amount, made.reason, made.idempotency_key)

    def _refund(self, request, payment, amount, reason, key):
        change_url = reverse("admin:payments_payment_change", args=[payment.pk])
        try:
            row = rules.refund(
                payment, amount, by=Actor.staff(request.user), reason=reason, key=key
            )
        except ValueError:
            # Refunded meanwhile by someone else (or a refund due by a cancel): nothing written.
            self.message_user(
                request,
                gettext("Less is left to refund than when the form was shown: nothing was done."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:payments_payment_refund", args=[payment.pk]))
        except MercadoPagoError as exc:
            self.message_user(request, not_reached_text(exc, amount), messages.ERROR)
            return HttpResponseRedirect(change_url)
        viewed(
            request, payment.reservation.client_id, payment, where="admin: refund", detail="refund"
        )
        done = payment.method != Method.MERCADOPAGO or row.status == RefundStatus.APPROVED
        level = messages.SUCCESS if done else messages.WARNING  # in process, or rejected
        self.message_user(request, refunded_text(payment, row), level)
        return HttpResponseRedirect(change_url)


def not_reached_text(error, amount):
    if error.status:
        said = gettext("Mercado Pago answered with an error (%(status)s).") % {
            "status": error.status
        }
    else:
        said = gettext("Mercado Pago could not be reached.")
    return " ".join(
        (
            said,
            gettext(
                "The refund of %(amount)s is recorded as requested: it is asked again "
                "automatically until Mercado Pago answers, and made once. There is nothing else "
                "to do."
            )
            % {"amount": money_text(amount)},
        )
    )


def refunded_text(payment, row):
    amount = money_text(row.amount)
    if payment.method != Method.MERCADOPAGO:
        return gettext(
            "Refund of %(amount)s recorded. Give the money back by hand (%(method)s)."
        ) % {"amount": amount, "method": payment.get_method_display().lower()}
    if row.status == RefundStatus.APPROVED:
        return gettext("%(amount)s refunded through Mercado Pago.") % {"amount": amount}
    return gettext("Refund of %(amount)s asked of Mercado Pago: it is %(status)s.") % {
        "amount": amount,
        "status": row.get_status_display().lower(),
    }


# A session's page lists its payments, and reception records one made by other means there.
# (Its base is series.admin's, on scheduling's, on the core's.)

admin.site.unregister(Reservation)


def received(reservation):
    """Whether money for this session reached the practice already (some maybe given back)."""
    return Payment.objects.filter(reservation=reservation, status__in=RECEIVED).exists()


@admin.register(Reservation)
class ReservationAdmin(BaseReservationAdmin):
    change_form_template = "admin/payments/reservation/change_form.html"

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return (*fields, "payments_of") if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "payments_of")

    @admin.display(description=_("payments"))
    def payments_of(self, obj):
        payments = Payment.objects.filter(reservation=obj).order_by("created_at", "id")
        if not payments:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{}</a>',
            (
                (reverse("admin:payments_payment_change", args=[p.pk]), payment_line(p))
                for p in payments
            ),
        )

    def may_record_payment(self, request, obj=None):
        return self.has_change_permission(request, obj) and request.user.has_perm(
            "payments.add_payment"
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.may_record_payment(request, obj) and not received(obj):
            url = reverse("admin:reservations_reservation_record_payment", args=[obj.pk])
            context["record_payment_url"] = url
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/record-payment/",
                self.admin_site.admin_view(self.record_payment_view),
                name="reservations_reservation_record_payment",
            ),
            *super().get_urls(),
        ]

    def record_payment_view(self, request, object_id):
        """The session paid by other means (cash, transfer): a payment recorded as approved, and
        what an approved payment does (a session held for payment is confirmed)."""
        if not self.may_record_payment(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.may_record_payment(request, obj):
            raise PermissionDenied
        change_url = reverse("admin:reservations_reservation_change", args=[obj.pk])
        if received(obj):
            return self._paid_already(request, change_url)
        form = PaidByHandForm(
            request.POST if request.method == "POST" else None,
            initial={"amount": suggested_amount(obj), "method": Method.CASH},
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                # Locked: the same form sent twice records one payment; the second finds it.
                r = Reservation.objects.select_for_update().get(pk=obj.pk)
                if received(r):
                    return self._paid_already(request, change_url)
                payment = rules.record_paid_by_hand(
                    r,
                    data["amount"],
                    data["method"],
                    by=Actor.staff(request.user),
                    note=data["note"],
                )
            viewed(request, obj.client_id, obj, where="admin: payment by hand", detail="paid")
            self._recorded(request, obj, payment)
            return HttpResponseRedirect(change_url)
        viewed(request, obj.client_id, obj, where="admin: payment by hand")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a payment by other means"),
            "opts": self.opts,
            "original": obj,
            "when": when_text(obj),
            "held": obj.held_for_payment,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/payments/reservation/record_payment.html", context)

    def _paid_already(self, request, change_url):
        # Another payment would be a second one, which the rules give back at once (rules.settle:
        # paid twice).
        self.message_user(
            request,
            gettext(
                "This session has a payment already (see its payments): a second one is not "
                "recorded."
            ),
            messages.WARNING,
        )
        return HttpResponseRedirect(change_url)

    def _recorded(self, request, before, payment):
        said = [
            gettext("Recorded: %(amount)s paid by %(method)s.")
            % {"amount": money_text(payment.amount), "method": payment.get_method_display().lower()}
        ]
        r = Reservation.objects.get(pk=before.pk)
        payment.refresh_from_db()
        level = messages.SUCCESS
        if payment.amount_refunded:
            # Its time was taken after its hold lapsed, or it was cancelled, or it has begun.
            said.append(
                gettext(
                    "The session could not take it, so it is recorded as given back: give the "
                    "money back by hand."
                )
            )
            level = messages.WARNING
        elif r.status == Status.CONFIRMED and before.status != Status.CONFIRMED:
            said.append(gettext("The session is confirmed."))
        elif before.awaiting_payment and not r.awaiting_payment:
            # Paid, for a professional who approves each booking: theirs to confirm now.
            said.append(gettext("The session now waits for its professional to confirm it."))
        self.message_user(request, " ".join(said), level)


def payment_line(payment):
    """'Cash · $ 3.000,00 · Approved · refunded $ 1.000,00'."""
    parts = [payment.get_method_display(), money_text(payment.amount)]
    parts.append(payment.get_status_display())
    if payment.amount_refunded:
        parts.append(
            gettext("refunded %(amount)s") % {"amount": money_text(payment.amount_refunded)}
        )
    return " · ".join(parts)


def suggested_amount(reservation):
    """What the form offers: what paying for a held session costs, else the session's price."""
    if reservation.held_for_payment:
        return amount_to_pay(reservation) or None
    policy = PaymentPolicy.objects.filter(professional_id=reservation.professional_id).first()
    return policy.price_for(reservation.session_modality) if policy else None
