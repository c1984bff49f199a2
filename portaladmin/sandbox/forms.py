from django import forms

from .models import SandboxPortal


class FaultSettingsForm(forms.ModelForm):
    class Meta:
        model = SandboxPortal
        fields = ["latency_ms", "error_rate", "throttle_rate", "retry_after", "seed", "publish_race_seconds",
                  "queue_seconds", "processing_seconds_min", "processing_seconds_max", "deleting_seconds",
                  "aborting_seconds", "harvest_seconds", "clock_offset_seconds", "whole_second_since",
                  "latency_jitter_ms", "lost_answer_rate", "inflated_total_count",
                  "processing_moves_updated_at"]
        labels = {"latency_ms": "Added latency (ms)", "error_rate": "Share of 5xx answers (0–1)",
                  "throttle_rate": "Share of 429 answers (0–1)", "retry_after": "Retry-After of 429s (s)",
                  "seed": "Fault RNG seed", "publish_race_seconds": "Publish race: old status kept (s)",
                  "queue_seconds": "Queued (s)", "processing_seconds_min": "Processing, min (s)",
                  "processing_seconds_max": "Processing, max (s)", "deleting_seconds": "Deleting (s)",
                  "aborting_seconds": "Aborting (s)", "harvest_seconds": "Harvester processing (s)",
                  "clock_offset_seconds": "Portal clock offset from ours (s, may be negative)",
                  "whole_second_since": "Timestamps with whole-second precision",
                  "latency_jitter_ms": "Extra random latency, up to (ms)",
                  "lost_answer_rate": "Share of writes applied whose answer is lost (0–1)",
                  "inflated_total_count": "Lists announce 1,000× their real total_count",
                  "processing_moves_updated_at": "The end of processing moves the dataset's updated_at"}

    OPTIONAL = ("clock_offset_seconds", "latency_jitter_ms", "lost_answer_rate")  # empty = off

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.OPTIONAL:
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        for name in self.OPTIONAL:
            if data.get(name) is None and name not in self.errors:
                data[name] = SandboxPortal._meta.get_field(name).default
        for name in ("error_rate", "throttle_rate", "lost_answer_rate"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "Between 0 and 1.")
        if (data.get("error_rate") or 0) + (data.get("throttle_rate") or 0) > 1:
            self.add_error("throttle_rate", "error_rate + throttle_rate must not exceed 1.")
        low, high = data.get("processing_seconds_min"), data.get("processing_seconds_max")
        if low is not None and high is not None and low > high:
            self.add_error("processing_seconds_max", "Must be at least the minimum.")
        for name in ("publish_race_seconds", "queue_seconds", "processing_seconds_min", "deleting_seconds",
                     "aborting_seconds", "harvest_seconds"):
            if (data.get(name) or 0) < 0:
                self.add_error(name, "Must not be negative.")
        return data
