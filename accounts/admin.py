from allauth.account.admin import EmailAddressAdmin
from allauth.account.decorators import reauthentication_required
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin  # noqa: F401 (registers it, replaced below)
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import invitations, sessions
from .credentials import may_manage_credentials
from .models import Invitation, ProfessionalProfile, User

# What makes someone staff or superuser, or gives them permissions: changing it asks the one who
# changes it for their password again (allauth's re-authentication).
ROLE_FIELDS = {"is_staff", "is_superuser", "groups", "user_permissions"}


def require_recent_authentication(request):
    """Raise allauth's ReauthenticationRequired unless this person re-authenticated within
    ACCOUNT_REAUTHENTICATION_TIMEOUT. allauth's middleware answers it with its "confirm it is you"
    page and, once confirmed, replays the request (a POST included)."""
    reauthentication_required(lambda request: None)(request)


class UserCreationForm(forms.ModelForm):
    """A patient as the practice registers them: no password. They choose one from the
    invitation (accounts/invitations.py), so staff never know it."""

    send_invitation = forms.BooleanField(
        label=_("Send the invitation"),
        required=False,
        initial=True,
        help_text=_(
            "Emails them a link to choose their password and log in. It works once, for 7 days."
        ),
    )

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "phone", "time_zone", "language")

    def clean_email(self):
        # Logins compare emails in lower case (UserManager stores them so).
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with that email already exists."))
        return email

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class ProfessionalProfileInline(admin.StackedInline):
    model = ProfessionalProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    # Django's user add page asks for a password first; ours does not.
    add_form_template = None
    # reservations/admin.py adds the user's sessions (reservations builds on accounts).
    inlines = [ProfessionalProfileInline]
    list_display = ("email", "first_name", "last_name", "is_professional", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active")
    search_fields = (
        "email__unaccent",
        "first_name__unaccent",
        "last_name__unaccent",
        "professional_profile__display_name__unaccent",
    )
    ordering = ("email",)
    list_select_related = ("professional_profile",)
    readonly_fields = ("last_login", "date_joined", "invitation")
    personal = (
        _("Personal info"),
        {"fields": ("first_name", "last_name", "phone", "time_zone", "language")},
    )
    dates = (_("Important dates"), {"fields": ("invitation", "last_login", "date_joined")})
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        personal,
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        dates,
    )
    # Reception's view: no superuser switch, no raw permission lists (superusers grant those).
    # Staff status is shown, not changed: who may enter the admin is a superuser's decision.
    staff_fieldsets = (
        (None, {"fields": ("email", "password")}),
        personal,
        (_("Access"), {"fields": ("is_active", "is_staff")}),
        dates,
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "phone",
                    "time_zone",
                    "language",
                    "send_invitation",
                ),
            },
        ),
    )

    @admin.display(description=_("invitation"))
    def invitation(self, obj):
        """The newest invitation's state: whether the link still waits to be used."""
        last = obj.invitations.first() if obj.pk else None
        if last is None:
            return gettext("Never sent")
        state = last.state(timezone.now())
        if state == Invitation.State.ACCEPTED:
            text, at = gettext("Accepted on %(date)s"), last.accepted_at
        elif state == Invitation.State.EXPIRED:
            text, at = gettext("Expired on %(date)s, unused"), last.expires_at
        else:
            text, at = gettext("Sent, waiting to be used until %(date)s"), last.expires_at
        return text % {"date": date_format(timezone.localtime(at), "DATETIME_FORMAT")}

    @admin.display(boolean=True, description=_("professional"))
    def is_professional(self, obj):
        return hasattr(obj, "professional_profile")

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.staff_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        fields = (*self.readonly_fields, "is_staff")
        if obj is not None and not may_manage_credentials(request.user, obj):
            # A new email, then a password reset, would hand the account to whoever typed it.
            fields = ("email", *fields)
        return fields

    def user_change_password(self, request, id, form_url=""):
        user = self.get_object(request, unquote(id))
        if user is not None and not may_manage_credentials(request.user, user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def has_change_permission(self, request, obj=None):
        # A superuser's account (email, password, access) is changed by superusers only:
        # otherwise reception could take it over with a new email and a password reset.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return ("is_staff", "is_superuser", "is_active", "groups")
        return self.list_filter

    def get_search_results(self, request, queryset, search_term):
        # The reservation form's pickers ask here (the autocomplete view says which field).
        if (
            request.GET.get("model_name") == "reservation"
            and request.GET.get("field_name") == "professional"
        ):
            queryset = queryset.filter(professional_profile__isnull=False)
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if "@" in term:
            # Typing a whole email picks that person: never someone else above them.
            exact = Case(
                When(email__iexact=term, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
            queryset = queryset.alias(_exact=exact).order_by("_exact", *self.get_ordering(request))
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        if change and ROLE_FIELDS.intersection(form.changed_data):
            require_recent_authentication(request)
        super().save_model(request, obj, form, change)
        if not change and form.cleaned_data.get("send_invitation"):
            # After the commit: the link must lead to a user that exists.
            transaction.on_commit(lambda: self._invite(request, obj))

    def _invite(self, request, user):
        replacing = user.invitations.filter(
            accepted_at__isnull=True, replaced_at__isnull=True
        ).exists()
        invitation = invitations.send(user, by=request.user, request=request)
        if invitation is None:
            self.message_user(
                request,
                gettext("No invitation was sent to %(email)s: the user is inactive.")
                % {"email": user.email},
                messages.WARNING,
            )
            return
        values = {
            "user": str(user),
            "date": date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"),
        }
        if replacing:
            text = gettext(
                "A new invitation was sent to %(user)s; its link works until %(date)s. The "
                "link sent before no longer works."
            )
        else:
            text = gettext("The invitation was sent to %(user)s; its link works until %(date)s.")
        self.message_user(request, text % values, messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/invite/",
                self.admin_site.admin_view(self.invite_view),
                name="accounts_user_invite",
            ),
            path(
                "<path:object_id>/end-sessions/",
                self.admin_site.admin_view(self.end_sessions_view),
                name="accounts_user_end_sessions",
            ),
            *super().get_urls(),
        ]

    def invite_view(self, request, object_id):
        """POST: email the user a new link to choose a password (the earlier one stops working)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        # The link sets a password: the same rule as setting it here.
        if not self.has_change_permission(request, user) or not may_manage_credentials(
            request.user, user
        ):
            raise PermissionDenied
        self._invite(request, user)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    # Ending all of a person's sessions (a lost phone)

    def may_end_sessions(self, request, user):
        """Whoever may change the person; a staff account's sessions only a superuser or the
        person themself."""
        if not self.has_change_permission(request, user):
            return False
        return not user.is_staff or request.user.is_superuser or request.user.pk == user.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, unquote(object_id))
        may_end = user is not None and self.may_end_sessions(request, user)
        extra_context = {**(extra_context or {}), "may_end_sessions": may_end}
        return super().change_view(request, object_id, form_url, extra_context)

    def end_sessions_view(self, request, object_id):
        """POST: log the person out everywhere (browsers and apps), and record who did it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object(request, unquote(object_id))
        if user is None or not self.has_view_or_change_permission(request, user):
            raise Http404
        if not self.may_end_sessions(request, user):
            raise PermissionDenied
        count = sessions.end_all(user)
        self.sessions_ended(request, user)
        self.message_user(
            request,
            ngettext(
                "%(n)d session of %(email)s ended.", "%(n)d sessions of %(email)s ended.", count
            )
            % {"n": count, "email": user.email},
            messages.SUCCESS,
        )
        if request.user.pk == user.pk:
            return HttpResponseRedirect(reverse("admin:login"))
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    def sessions_ended(self, request, user):
        """Where the access log is written: reservations/admin.py's UserAdmin (the registered
        one) does, since the access log (audit) builds on accounts, not the other way round."""


class SuperusersOnly:
    """Groups and email addresses are the superusers' business: reception sees neither."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class SuperuserGroupAdmin(SuperusersOnly, GroupAdmin):
    def save_model(self, request, obj, form, change):
        # A group's permissions are its members' role: changing them asks for the password too.
        if change and "permissions" in form.changed_data:
            require_recent_authentication(request)
        super().save_model(request, obj, form, change)


class SuperuserEmailAddressAdmin(SuperusersOnly, EmailAddressAdmin):
    pass


# Imported above, django.contrib.auth's and allauth's admin modules have registered theirs.
admin.site.unregister(Group)
admin.site.register(Group, SuperuserGroupAdmin)
admin.site.unregister(EmailAddress)
admin.site.register(EmailAddress, SuperuserEmailAddressAdmin)


class SuperuserAuthenticatorAdmin(admin.ModelAdmin):
    """Who has which second factor, for superusers, read only and without the secrets. A lost
    factor is reset from the user's page (reservations/admin.py), which logs it and tells them."""

    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(Authenticator)
admin.site.register(Authenticator, SuperuserAuthenticatorAdmin)
