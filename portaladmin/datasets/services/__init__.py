"""Services of the datasets app (writes, and the reads that refresh the snapshot). Split by sub-domain:
catalogue (snapshot sync and refresh), datasets (dataset-level writes and jobs), parts (resources, processors,
field configurations, schedules, versions, attachments)."""

from portaladmin.datasets.services.catalogue import (  # noqa: F401
    catalogue_sync_request,
    catalogue_sync_run,
    snapshot_apply_status,
    snapshot_forget,
    snapshot_from_dataset,
    snapshot_note_schedules,
    snapshot_refresh,
    snapshot_store,
)
from portaladmin.datasets.services.datasets import (  # noqa: F401
    DATASET_ACTIONS,
    MetadataSaveResult,
    dataset_action_start,
    dataset_copy,
    dataset_create,
    dataset_delete,
    dataset_gone,
    dataset_read,
    dataset_security_update,
    metadata_fields_save,
    ruleset_delete,
    ruleset_save,
)
from portaladmin.datasets.services.parts import (  # noqa: F401
    attachment_delete,
    attachment_upload,
    field_config_create,
    field_config_delete,
    field_config_update,
    processor_create,
    processor_delete,
    processor_update,
    resource_delete,
    schedule_create,
    schedule_delete,
    version_restore,
)
