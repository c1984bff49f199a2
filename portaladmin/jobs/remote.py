"""The engine's only way to a portal client (tests swap `get_client` for a fake)."""


def get_client(connection):
    from portaladmin.portals.client import client_for

    return client_for(connection)
