"""Reads of notification rules: a person sees and changes only their own."""

from django.db.models import QuerySet
from django.http import Http404

from portaladmin.notify.models import Delivery, Rule


def rule_list(*, user) -> QuerySet[Rule]:
    return Rule.objects.filter(owner=user).prefetch_related("connections").order_by("name", "id")


def rule_get_for_user(*, user, rule_id: int) -> Rule:
    rule = rule_list(user=user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such rule.")
    return rule


def delivery_log(*, rule: Rule, limit: int = 100) -> QuerySet[Delivery]:
    return rule.deliveries.select_related("event").order_by("-created_at", "-id")[:limit]
