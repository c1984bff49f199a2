"""The sandbox settings page (superusers only: fault settings change what everyone sees): portals, faults, request counts."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portaladmin.core.decorators import superuser_required

from .forms import FaultSettingsForm
from .models import SandboxPortal
from .services import request_counts, request_log, reset_request_log


@superuser_required("Only superusers manage the sandbox portals.")
def index(request):
    portals = []
    for portal in SandboxPortal.objects.order_by("name"):
        portals.append({"portal": portal, "form": FaultSettingsForm(instance=portal, prefix=portal.name),
                        "total": request_counts(portal.name), "log": request_log(portal.name)[:50],
                        "datasets": portal.datasets.count()})
    return render(request, "sandbox/index.html", {"portals": portals})


@superuser_required("Only superusers manage the sandbox portals.")
@require_POST
def settings_update(request, name):
    portal = get_object_or_404(SandboxPortal, name=name)
    form = FaultSettingsForm(request.POST, instance=portal, prefix=portal.name)
    if form.is_valid():
        form.instance.request_counter = 0
        form.save()
        messages.success(request, f"Fault settings of sandbox portal {name} saved.")
    else:
        messages.error(request, f"Fault settings of {name} not saved: " + "; ".join(
            f"{field}: {' '.join(errs)}" for field, errs in form.errors.items()))
    return redirect("sandbox:index")


@superuser_required("Only superusers manage the sandbox portals.")
@require_POST
def reset_log(request, name):
    portal = get_object_or_404(SandboxPortal, name=name)
    reset_request_log(portal.name)
    messages.success(request, f"Request log of sandbox portal {name} cleared.")
    return redirect("sandbox:index")
