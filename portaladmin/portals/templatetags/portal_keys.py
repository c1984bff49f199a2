"""`connection|key_lacks:"publish_dataset"`: why the connection's key cannot do it ("" when it can or is unknown)."""

from django import template

register = template.Library()


@register.filter
def key_lacks(connection, permission: str) -> str:
    if connection is None or not hasattr(connection, "key_lacks"):
        return ""
    return connection.key_lacks(permission)
