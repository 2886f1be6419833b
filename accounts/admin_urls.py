"""The administrator's workspace, mounted at /manage/ (namespace "manage")."""

from django.urls import path

from accounts import admin_views as views
from accounts.decorators import fresh_second_factor_required

# Handing someone a new way in (a second factor of their own choosing, an
# API token) asks the administrator for their own second factor again.
fresh = fresh_second_factor_required()

app_name = "manage"

urlpatterns = [
    path("", views.index, name="index"),
    path("users/", views.user_list_view, name="user-list"),
    path("users/invite/", views.user_invite_view, name="user-invite"),
    path(
        "users/add-feed-system/",
        views.feed_system_create_view,
        name="feed-system-create",
    ),
    path("users/<uuid:user_id>/", views.user_detail_view, name="user-detail"),
    path("users/<uuid:user_id>/roles/", views.role_grant_view, name="role-grant"),
    path(
        "users/<uuid:user_id>/roles/<int:assignment_id>/remove/",
        views.role_revoke_view,
        name="role-revoke",
    ),
    path(
        "users/<uuid:user_id>/suspend/",
        views.account_action_view,
        {"action": "suspend"},
        name="user-suspend",
    ),
    path(
        "users/<uuid:user_id>/reactivate/",
        views.account_action_view,
        {"action": "reactivate"},
        name="user-reactivate",
    ),
    path(
        "users/<uuid:user_id>/second-factor-reset/",
        fresh(views.account_action_view),
        {"action": "second-factor-reset"},
        name="second-factor-reset",
    ),
    path(
        "users/<uuid:user_id>/unlock/",
        views.account_action_view,
        {"action": "unlock"},
        name="account-unlock",
    ),
    path(
        "users/<uuid:user_id>/api-tokens/new/",
        fresh(views.token_issue_view),
        name="token-issue",
    ),
    path(
        "users/<uuid:user_id>/api-tokens/<uuid:token_id>/revoke/",
        views.token_revoke_view,
        name="token-revoke",
    ),
    path(
        "invitations/<uuid:invitation_id>/withdraw/",
        views.invitation_withdraw_view,
        name="invitation-withdraw",
    ),
    path("access-review/", views.access_review_view, name="access-review"),
    path("organisations/", views.organisation_list_view, name="organisation-list"),
]
