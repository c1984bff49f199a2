import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm


class TeamUserCreateForm(UserCreationForm):
    email = forms.EmailField(required=False)
    is_superuser = forms.BooleanField(required=False, label="Superuser (admin on every connection)")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email", "is_superuser")


class TeamUserEditForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ("first_name", "last_name", "email")


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(choices=_time_zone_choices, label="My time zone",
                                  help_text="Times on every page are shown in this zone.")
