"""django-otp-webauthn's JSON endpoints, /accounts/passkeys/…, under the
package's own namespace "otp_webauthn" (its template tags reverse these
names), with the project's subclasses where the rules differ."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn.views import BeginCredentialRegistrationView

from accounts.passkey_views import (
    PasskeyAuthenticationBeginView,
    PasskeyAuthenticationCompleteView,
    PasskeyRegistrationCompleteView,
)

app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        BeginCredentialRegistrationView.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        PasskeyRegistrationCompleteView.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        PasskeyAuthenticationBeginView.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        PasskeyAuthenticationCompleteView.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
