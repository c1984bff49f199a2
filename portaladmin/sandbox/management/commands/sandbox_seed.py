"""Create or refresh a sandbox portal with realistic data and print its API key (last line of output)."""

from django.core.management.base import BaseCommand, CommandError

from portaladmin.sandbox.services import seed_portal


def _seconds_range(value: str) -> tuple[float, float]:
    low, sep, high = value.partition("-")
    try:
        pair = (float(low), float(high if sep else low))
    except ValueError:
        raise CommandError(f"--processing-seconds expects A-B (e.g. 1-3), got {value!r}") from None
    if pair[0] < 0 or pair[0] > pair[1]:
        raise CommandError("--processing-seconds: need 0 <= A <= B")
    return pair


class Command(BaseCommand):
    help = "Create or refresh sandbox portal NAME (idempotent; --reset wipes it first) and print its API key."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--datasets", type=int, default=20)
        parser.add_argument("--users", type=int, default=8)
        parser.add_argument("--groups", type=int, default=3)
        parser.add_argument("--harvesters", type=int, default=2)
        parser.add_argument("--pages", type=int, default=4)
        parser.add_argument("--api-key", default=None)
        parser.add_argument("--reset", action="store_true")
        parser.add_argument("--latency-ms", type=int, default=None)
        parser.add_argument("--error-rate", type=float, default=None)
        parser.add_argument("--throttle-rate", type=float, default=None)
        parser.add_argument("--processing-seconds", default=None, help="A-B: random duration range of processing")
        parser.add_argument("--seed", type=int, default=None, help="seed of the fault-injection RNG")

    def handle(self, *args, name, datasets, users, groups, harvesters, pages, api_key, reset, latency_ms,
               error_rate, throttle_rate, processing_seconds, seed, **options):
        for label, rate in (("--error-rate", error_rate), ("--throttle-rate", throttle_rate)):
            if rate is not None and not 0 <= rate <= 1:
                raise CommandError(f"{label} must be between 0 and 1")
        portal, key = seed_portal(
            name, datasets=datasets, users=users, groups=groups, harvesters=harvesters, pages=pages,
            api_key=api_key, reset=reset, latency_ms=latency_ms, error_rate=error_rate, throttle_rate=throttle_rate,
            processing_seconds=_seconds_range(processing_seconds) if processing_seconds else None, seed=seed)
        counts = (f"{portal.datasets.count()} datasets, {portal.sandbox_objects.filter(kind='user').count()} users, "
                  f"{portal.sandbox_objects.filter(kind='group').count()} groups, {portal.harvesters.count()} harvesters")
        self.stdout.write(f"Sandbox portal {name!r}: {counts}. API base: /sandbox/{name}/api/automation/v1.0/")
        self.stdout.write(key)
