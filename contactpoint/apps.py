from django.apps import AppConfig


class ContactpointConfig(AppConfig):
    """Wiring only: management commands for keys; no models, no business logic."""

    name = "contactpoint"
    verbose_name = "Contact directory wiring"
