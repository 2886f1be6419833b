from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        from axes.signals import user_locked_out  # noqa: PLC0415  # apps loaded

        from accounts.api import schema  # noqa: F401, PLC0415  # registers the extension
        from accounts.lockout import lockout_record  # noqa: PLC0415

        user_locked_out.connect(lockout_record, dispatch_uid="accounts.lockout")
