from django.urls import path

from accounts.api.views import AccountMeApi

app_name = "accounts-api"

urlpatterns = [path("me/", AccountMeApi.as_view(), name="me")]
