from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _after_migrate(*, using: str, plan: Any = None, **_: Any) -> None:
    """Re-apply the database privileges (new tables, new partitions)."""
    from audit.privileges import privileges_apply  # noqa: PLC0415  # apps loaded

    privileges_apply(connections[using])


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Access audit"

    def ready(self) -> None:
        post_migrate.connect(
            _after_migrate, sender=self, dispatch_uid="audit.privileges"
        )
