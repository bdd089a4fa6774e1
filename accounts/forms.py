from django import forms

from .models import User


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["time_zone"]
        widgets = {"time_zone": forms.Select(attrs={"aria-describedby": "time-zone-help"})}
