"""The invitation link, /accounts/invitations/<token>/: no sign-in needed.

Mounted from contactpoint/urls.py under the namespace "invitations", as
``invitations:invitation-accept``.
"""

from django.urls import path

from accounts.invitation_views import invitation_accept_view

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", invitation_accept_view, name="invitation-accept"),
]
