"""Directory models. Private to the directory's selectors and services."""

from directory.models.child_record import (
    Address,
    BlindIndexEntry,
    Carer,
    CarerRelationship,
    Child,
    ChildName,
    ChildStatus,
    Gender,
    NameKind,
    PurgedChild,
)
from directory.models.contact import (
    SENSITIVE_SERVICES,
    Consent,
    Involvement,
    ServiceType,
    SourceKind,
)
from directory.models.lifecycle import (
    LifecyclePlanBatch,
    LifecycleRun,
    LifecycleRunKind,
    LifecycleRunStatus,
)
from directory.models.merge import ChildMerge
from directory.models.provenance import Provenance
from directory.models.warning_flag import FlagKind, WarningFlag

__all__ = [
    "SENSITIVE_SERVICES",
    "Address",
    "BlindIndexEntry",
    "Carer",
    "CarerRelationship",
    "Child",
    "ChildMerge",
    "ChildName",
    "ChildStatus",
    "Consent",
    "FlagKind",
    "Gender",
    "Involvement",
    "LifecyclePlanBatch",
    "LifecycleRun",
    "LifecycleRunKind",
    "LifecycleRunStatus",
    "NameKind",
    "Provenance",
    "PurgedChild",
    "ServiceType",
    "SourceKind",
    "WarningFlag",
]
