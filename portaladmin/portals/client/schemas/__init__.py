"""Typed results built tolerantly from the portal's JSON.

`T.from_dict(d)` ignores unknown keys and defaults missing optional ones; the original dict stays in `.raw`
(excluded from repr and equality) for templates that need an extra field.
"""

from ._common import Page
from .dataset_parts import (
    AlternativeExport,
    Attachment,
    Extractor,
    Feedback,
    FieldConfig,
    MetadataValue,
    Processor,
    Resource,
    ResourcePreview,
    Schedule,
    SecurityRuleset,
    UploadedFile,
    Version,
    metadata_fields,
    metadata_templates,
)
from .datasets import Dataset, DatasetStatus, RecordError
from .harvesters import Harvester, HarvesterErrors, HarvesterPreview
from .pages import (
    Asset,
    CodePage,
    DatasourceConnection,
    MetadataSuggestion,
    MetadataTemplate,
    MetadataTemplateField,
    StudioPage,
)
from .people import ApiKey, Group, ItemResult, User, item_results

__all__ = [
    "Page", "Dataset", "DatasetStatus", "RecordError", "Resource", "UploadedFile", "ResourcePreview", "Extractor",
    "MetadataValue", "SecurityRuleset", "Processor", "FieldConfig", "Schedule", "Version", "Attachment",
    "AlternativeExport", "Feedback", "Harvester", "HarvesterErrors", "HarvesterPreview", "User", "Group",
    "ItemResult", "ApiKey", "StudioPage", "CodePage", "DatasourceConnection", "MetadataTemplate",
    "MetadataTemplateField", "MetadataSuggestion", "Asset", "metadata_fields", "metadata_templates", "item_results",
]
