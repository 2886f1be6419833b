"""Forms for signing in, second factors and changing a password.

Errors follow the GOV.UK pattern: each one belongs to a field, so the error
summary can link to it.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.sign_in import REFUSALS, sign_in_refusal
from accounts.two_factor import (
    BACKUP_CODE_ALPHABET,
    BACKUP_CODE_LENGTH,
    TOTP_DIGITS,
    backup_code_is_well_formed,
    backup_code_normalise,
    totp_code_is_well_formed,
    totp_code_normalise,
)


@dataclass(frozen=True, slots=True)
class SignInFailure:
    """Why the password step failed, for the access log."""

    user: User | None
    reason: str


class SignInForm(AuthenticationForm):
    """Sign in with a username or an e-mail address, and a password.

    A failed sign-in never says which of the two was wrong. Accounts that
    may not sign in with a browser (closed, suspended, feed systems) are told
    so clearly, but only once the password is right.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Enter a correct username and password. Both fields may be case-sensitive."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failure: SignInFailure | None = None
        username = self.fields["username"]
        username.label = "Username or email address"
        username.error_messages["required"] = "Enter your username or email address"
        self.fields["password"].error_messages["required"] = "Enter your password"

    def clean_username(self) -> str:
        """Turn an e-mail address that belongs to exactly one user into their
        username. Anything else is tried as a username, so an unknown address
        fails exactly like a wrong password."""
        identifier: str = self.cleaned_data["username"]
        if "@" in identifier:
            usernames = list(
                get_user_model()
                ._default_manager.filter(email__iexact=identifier)
                .values_list("username", flat=True)[:2]
            )
            if len(usernames) == 1:
                return usernames[0]
        return identifier

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError as error:
            # Attached to a field so the error summary can link to it.
            self.add_error("username", error)
            return self.cleaned_data

    def get_invalid_login_error(self) -> ValidationError:
        user = User._default_manager.filter(
            username=self.cleaned_data.get("username")
        ).first()
        # Django's backend turns closed accounts away as if the password were
        # wrong; with the right password, say what is really the matter.
        if (
            user is not None
            and not user.is_active
            and user.check_password(self.cleaned_data.get("password") or "")
        ):
            refusal = REFUSALS["account_inactive"]
            self.failure = SignInFailure(user, refusal.reason)
            return ValidationError(refusal.message, code=refusal.reason)
        self.failure = SignInFailure(
            user, "unknown_user" if user is None else "password_wrong"
        )
        error: ValidationError = super().get_invalid_login_error()
        return error

    def confirm_login_allowed(self, user: User) -> None:
        refusal = sign_in_refusal(user)
        if refusal is not None:
            self.failure = SignInFailure(user, refusal.reason)
            raise ValidationError(refusal.message, code=refusal.reason)


class TotpCodeForm(forms.Form):
    """The 6-digit code an authenticator app shows. Only its format is checked
    here: whether it is right is the service's question."""

    code = forms.CharField(
        label=f"Enter the {TOTP_DIGITS}-digit code from your authenticator app",
        help_text="The code changes every 30 seconds.",
        error_messages={
            "required": (
                f"Enter the {TOTP_DIGITS}-digit code from your authenticator app"
            )
        },
        max_length=32,
        strip=True,
    )

    def clean_code(self) -> str:
        code = totp_code_normalise(self.cleaned_data["code"])
        if not code.isdigit():
            raise ValidationError("The code must only include numbers")
        if not totp_code_is_well_formed(code):
            raise ValidationError(f"The code must be {TOTP_DIGITS} digits")
        return code


class BackupCodeForm(forms.Form):
    """One of the user's backup codes, in any case, with or without spaces."""

    code = forms.CharField(
        label="Backup code",
        help_text=(
            f"Each backup code is {BACKUP_CODE_LENGTH} letters and numbers, "
            "like 7hk4m-2pq9x. You can use each code only once."
        ),
        error_messages={"required": "Enter a backup code"},
        max_length=64,
        strip=True,
    )

    def clean_code(self) -> str:
        code = backup_code_normalise(self.cleaned_data["code"])
        if len(code) != BACKUP_CODE_LENGTH:
            raise ValidationError(
                f"The backup code must be {BACKUP_CODE_LENGTH} letters and numbers"
            )
        if not backup_code_is_well_formed(code):
            unused = sorted(
                set("0123456789abcdefghijklmnopqrstuvwxyz") - set(BACKUP_CODE_ALPHABET)
            )
            raise ValidationError(
                "Enter the backup code exactly as it is written. Backup codes "
                f"never contain {', '.join(unused[:-1])} or {unused[-1]}"
            )
        return code


class GovukPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with GOV.UK labels and error messages."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": "Your current password is not correct",
        "password_mismatch": "The new passwords do not match",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "old_password": ("Current password", "Enter your current password"),
            "new_password1": ("New password", "Enter a new password"),
            "new_password2": ("Confirm new password", "Confirm your new password"),
        }
        for name, (label, required) in labels.items():
            self.fields[name].label = label
            self.fields[name].error_messages["required"] = required
        self.fields["new_password1"].help_text = (
            "Use at least 12 characters. A few unrelated words are easy to "
            "remember and hard to guess. Do not use a password you use anywhere "
            "else."
        )
