"""Request a status scan of connections now; with --wait, run it here (within the budget) and print the counts.

    python manage.py status_scan                 # every connection: the background scan re-checks everything
    python manage.py status_scan demo --wait     # run it in the foreground, print datasets per status
"""

from django.core.management.base import BaseCommand, CommandError

from portaladmin.datasets.models import SnapshotStatus
from portaladmin.datasets.services.scan import (
    portal_budget,
    scan_budget,
    scan_request,
    scan_run_wait,
    status_counts,
    tick_seconds,
)
from portaladmin.portals.models import Connection

LABELS = dict(SnapshotStatus.choices)


class Command(BaseCommand):
    help = "Check every dataset's processing status (GET /datasets/{uid}/status/) within each portal's budget."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", metavar="CONNECTION_SLUG",
                            help="Connections to scan (default: all).")
        parser.add_argument("--wait", action="store_true",
                            help="Run the scan here to completion (still within the budget) and print the counts.")
        parser.add_argument("--max-minutes", type=float, default=None,
                            help="With --wait: stop after this long even if the scan is not complete.")

    def handle(self, *args, slugs=(), wait=False, max_minutes=None, **options):
        connections = list(Connection.objects.order_by("slug"))
        if slugs:
            by_slug = {c.slug: c for c in connections}
            unknown = [s for s in slugs if s not in by_slug]
            if unknown:
                raise CommandError(f"No connection with slug {', '.join(unknown)}. Known: "
                                   f"{', '.join(by_slug) or 'none'}.")
            connections = [by_slug[s] for s in dict.fromkeys(slugs)]
        if not connections:
            raise CommandError("There is no connection to scan.")
        off = [c.slug for c in connections if scan_budget(c) <= 0]
        if off:
            self.stderr.write(f"The status scan is off (budget 0) for: {', '.join(off)}; skipped.")
            connections = [c for c in connections if c.slug not in off]
        if not wait:
            for conn in connections:
                scan_request(connection=conn)
                self.stdout.write(f"{conn.slug}: status scan requested (up to {scan_budget(conn)} of "
                                  f"{portal_budget(conn)} requests every {tick_seconds():g} s).")
            return
        result = scan_run_wait(connections=connections,
                               max_seconds=max_minutes * 60 if max_minutes is not None else None)
        for conn in connections:
            counts = status_counts(connection=conn)
            total = sum(counts.values())
            left = result["remaining"].get(conn.pk, 0)
            line = ", ".join(f"{LABELS.get(s, s).lower()} {n}" for s, n in sorted(counts.items(), key=lambda x: -x[1]))
            self.stdout.write(f"{conn.slug}: {total} datasets: {line or 'none'}"
                              + (f" ({left} not checked yet)" if left else ""))
            if conn.pk in result["stopped"]:
                self.stderr.write(f"{conn.slug}: {result['stopped'][conn.pk]}")
        self.stdout.write(f"{result['requests']} status requests in {result['seconds']:.1f} s.")
        if result["stopped"]:
            raise CommandError("The scan stopped for some connections (see above).")
