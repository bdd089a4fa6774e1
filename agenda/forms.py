from django import forms
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import ProfessionalProfile

# A week: more notice than that would leave patients no sensible way to cancel online.
MAX_NOTICE_HOURS = 168
NOTES_MAX_LENGTH = 10_000


def _formfield(field, **kwargs):
    # A link typed without its scheme is an https one (Django 6's default, said now).
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ProfileForm(forms.ModelForm):
    """What a professional sets about themselves. The photo stays with the practice (admin)."""

    class Meta:
        model = ProfessionalProfile
        formfield_callback = _formfield
        fields = [
            "display_name",
            "specialty",
            "phone",
            "whatsapp",
            "contact_email",
            "address",
            "video_url",
            "cancellation_notice_hours",
            "requires_approval",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        notice = self.fields["cancellation_notice_hours"]
        notice.validators.append(MaxValueValidator(MAX_NOTICE_HOURS))
        notice.widget.attrs.update(min=0, max=MAX_NOTICE_HOURS)
        notice.help_text = _(
            "How long before a session a patient may still cancel it online: 0 to 168 hours."
        )
        self.fields["phone"].widget.attrs.update(type="tel", autocomplete="tel")
        self.fields["whatsapp"].widget.attrs.update(type="tel")


class NotesForm(forms.Form):
    # Django's CharField refuses NUL characters, which PostgreSQL text cannot hold.
    notes = forms.CharField(required=False, max_length=NOTES_MAX_LENGTH)
