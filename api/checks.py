from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def jwt_signing_key(app_configs, **kwargs):
    # HS256 with SECRET_KEY is sound for a site that issues and checks its own tokens, so this is
    # information, not a warning: `check --deploy --fail-level WARNING` still passes.
    if settings.HEADLESS_JWT_ALGORITHM.startswith("HS"):
        return [
            checks.Info(
                "API access tokens are signed with SECRET_KEY (HS256).",
                hint="Set JWT_PRIVATE_KEY to an RSA private key (PEM) to sign them with RS256, "
                "e.g. when another service must verify them.",
                id="api.I001",
            )
        ]
    return []
