"""Who the API caller is: lets an integrating system check its token."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.actors import api_actor
from accounts.api.errors import RETRY_AFTER, error_responses


class AccountMeApi(APIView):
    """The signed-in person or the token's feed system, with its roles."""

    class AccountSerializer(serializers.Serializer[dict[str, object]]):
        id = serializers.UUIDField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        organisation_ids = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(
        operation_id="account_me",
        tags=["Accounts"],
        parameters=[RETRY_AFTER],
        responses={200: AccountSerializer, **error_responses(403)},
        summary="Who am I?",
    )
    def get(self, request: Request) -> Response:
        actor = api_actor(request)
        return Response(
            self.AccountSerializer(
                {
                    "id": actor.user_id,
                    "username": request.user.get_username(),
                    "roles": sorted(actor.roles),
                    "organisation_ids": sorted(actor.organisation_ids),
                }
            ).data
        )
