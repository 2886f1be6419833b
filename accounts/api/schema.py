"""OpenAPI description of the feed-system API token (drf-spectacular).

drf-spectacular finds an authentication class's security scheme through an
extension registered for it; without one it warns, and ``check --deploy``
fails. Imported from ``AccountsConfig.ready`` so the schema generator always
sees it.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<8 hexadecimal characters>.<secret>",
            "description": (
                "A feed system's API token, issued by an administrator in the "
                "administrator's workspace. Send it as 'Authorization: Bearer <token>'."
            ),
        }
