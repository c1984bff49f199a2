"""Notification rules: my rules, create / edit / delete, a rule's page with its delivery log and a test button.

Everyone logged in manages their own rules only (another person's rule is a 404). A rule offers only the
connections the person can see, and what it sends is filtered again by role at sending time (services).
"""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portaladmin.core.htmx import redirect
from portaladmin.notify.forms import RuleForm
from portaladmin.notify.models import Channel
from portaladmin.notify.selectors import delivery_log, rule_get_for_user, rule_list
from portaladmin.notify.services import rule_new_secret, rule_save, rule_send_test, rules_visible_connections


@require_GET
def rules_list(request):
    return render(request, "notify/list.html", {"rules": rule_list(user=request.user)})


def _form(request, rule=None):
    return RuleForm(request.POST or None, instance=rule, owner=request.user,
                    connections=rules_visible_connections(request.user))


def rule_create(request):
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        rule = rule_save(form=form, owner=request.user)
        messages.success(request, f"Rule “{rule.name}” created.")
        return redirect(request, rule.get_absolute_url())
    return render(request, "notify/form.html", {"form": form, "creating": True})


def rule_edit(request, rule_id: int):
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    form = _form(request, rule)
    if request.method == "POST" and form.is_valid():
        rule_save(form=form, owner=request.user)
        messages.success(request, "Rule saved.")
        return redirect(request, rule.get_absolute_url())
    return render(request, "notify/form.html", {"form": form, "rule": rule})


@require_GET
def rule_detail(request, rule_id: int):
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    ctx = {"rule": rule, "deliveries": delivery_log(rule=rule),
           "secret": rule.webhook_secret if rule.channel == Channel.WEBHOOK else ""}
    return render(request, "notify/detail.html", ctx)


@require_POST
def rule_test(request, rule_id: int):
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    rule_send_test(rule=rule)
    messages.info(request, "Test event queued: its delivery appears in the log below.")
    return redirect(request, rule.get_absolute_url())


@require_POST
def rule_secret(request, rule_id: int):
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    rule_new_secret(rule=rule)
    messages.success(request, "New secret set: update your receiver.")
    return redirect(request, rule.get_absolute_url())


@require_POST
def rule_delete(request, rule_id: int):
    rule = rule_get_for_user(user=request.user, rule_id=rule_id)
    rule.delete()
    messages.success(request, f"Rule “{rule.name}” deleted.")
    return redirect(request, reverse("notify:list"))
