"""Who the API caller is: lets an integrating system check its token."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import actor_for_user


class AccountMeApi(APIView):
    """The signed-in person or the token's feed system, with its roles."""

    class OutputSerializer(serializers.Serializer[dict[str, object]]):
        id = serializers.UUIDField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        organisation_ids = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(responses=OutputSerializer, summary="Who am I?")
    def get(self, request: Request) -> Response:
        user = request.user
        verified = bool(request.auth) or bool(getattr(user, "is_verified", bool)())
        actor = actor_for_user(user, second_factor_verified=verified)  # type: ignore[arg-type]  # IsAuthenticated guarantees a User
        return Response(
            self.OutputSerializer(
                {
                    "id": actor.user_id,
                    "username": user.get_username(),
                    "roles": sorted(actor.roles),
                    "organisation_ids": sorted(actor.organisation_ids),
                }
            ).data
        )
