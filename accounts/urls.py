from django.urls import path

from accounts.passkey_views import ConfirmPasskeyView, PasskeyAddView, PasskeyStepView
from accounts.views import (
    AccountView,
    BackupCodeStepView,
    BackupCodesView,
    ChangePasswordView,
    ConfirmBackupCodeView,
    ConfirmTotpView,
    SecondFactorSetupView,
    SignInView,
    SignOutView,
    TotpStepView,
)

app_name = "accounts"

urlpatterns = [
    path("", AccountView.as_view(), name="account"),
    # Signing in: a password, then a second factor. The middleware lets a
    # user with only a password reach the three second-factor steps.
    path("sign-in/", SignInView.as_view(), name="sign-in"),
    path("sign-in/second-factor/", TotpStepView.as_view(), name="second-factor"),
    path(
        "sign-in/backup-code/",
        BackupCodeStepView.as_view(),
        name="second-factor-backup-code",
    ),
    path(
        "sign-in/set-up-authenticator-app/",
        SecondFactorSetupView.as_view(),
        name="second-factor-setup",
    ),
    path("sign-in/passkey/", PasskeyStepView.as_view(), name="second-factor-passkey"),
    path("passkeys/add/", PasskeyAddView.as_view(), name="passkey-add"),
    # "Confirm it's you" for pages that need a fresh second factor.
    path("confirm-its-you/", ConfirmTotpView.as_view(), name="confirm-identity"),
    path(
        "confirm-its-you/backup-code/",
        ConfirmBackupCodeView.as_view(),
        name="confirm-identity-backup-code",
    ),
    path(
        "confirm-its-you/passkey/",
        ConfirmPasskeyView.as_view(),
        name="confirm-identity-passkey",
    ),
    path("password/", ChangePasswordView.as_view(), name="password-change"),
    path("backup-codes/", BackupCodesView.as_view(), name="backup-codes"),
    path("sign-out/", SignOutView.as_view(), name="sign-out"),
]
