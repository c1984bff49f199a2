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
