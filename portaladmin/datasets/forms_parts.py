"""Forms of the schema view, alternative exports and images (input checks only, no remote call)."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from portaladmin.datasets.forms import check_upload
from portaladmin.datasets.services.extras import ANNOTATIONS, FIELD_TYPES

NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
IMAGE_TYPES = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8", "image/webp": b"RIFF"}


class SchemaFieldForm(forms.Form):
    name = forms.CharField(max_length=200, label="Technical name",
                           help_text="Lowercase letters, digits and _; renaming changes the API's field name.")
    label = forms.CharField(max_length=255)
    type = forms.ChoiceField(choices=[(t, t) for t in FIELD_TYPES])
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    annotations = forms.MultipleChoiceField(required=False, choices=[(a, a) for a in ANNOTATIONS],
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text="Annotations can be added here; remove one by deleting its "
                                                      "field configuration.")

    def clean_name(self):
        value = self.cleaned_data["name"].strip()
        if not NAME_RE.match(value):
            raise forms.ValidationError("Use lowercase letters, digits and _ (starting with a letter or _).")
        return value


class ExportForm(forms.Form):
    title = forms.CharField(max_length=255)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(allow_empty_file=True)

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        check_upload(upload)
        return upload


class ExportEditForm(forms.Form):
    title = forms.CharField(max_length=255)
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def image_max_bytes() -> int:
    return settings.PORTALADMIN_MAX_IMAGE_BYTES


class ImageForm(forms.Form):
    file = forms.FileField(label="Image", allow_empty_file=True,
                           help_text="PNG, JPEG, GIF, WebP or SVG.")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            raise forms.ValidationError("Choose an image to upload.")
        if upload.size == 0:
            raise forms.ValidationError("This file is empty.")
        limit = image_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"This image is {filesizeformat(upload.size)}; the limit is "
                                        f"{filesizeformat(limit)}. Make it smaller first.")
        upload.seek(0)
        head = upload.read(512)
        upload.seek(0)
        kind = _image_type(head)
        if kind is None:  # the content decides, not the name or the browser's claim
            raise forms.ValidationError("This is not an image portaladmin can send: use PNG, JPEG, GIF, WebP "
                                        "or SVG.")
        if kind == "image/svg+xml" and _svg_is_active(upload):
            raise forms.ValidationError("This SVG contains a script, an event handler or a javascript: link; the "
                                        "portal would serve it from its own address. Remove them first.")
        upload.checked_type = kind
        return upload


# An SVG opened from the portal's address runs its scripts there (stored XSS on the portal): refuse active content.
SVG_ACTIVE = re.compile(rb"<script|<foreignobject|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


def _svg_is_active(upload) -> bool:
    upload.seek(0)
    content = upload.read()  # bounded: the size was checked against PORTALADMIN_MAX_IMAGE_BYTES above
    upload.seek(0)
    return SVG_ACTIVE.search(content) is not None


def _image_type(head: bytes) -> str | None:
    for kind, magic in IMAGE_TYPES.items():
        if head.startswith(magic) and (kind != "image/webp" or head[8:12] == b"WEBP"):
            return kind
    text = head.lstrip().lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    return None
