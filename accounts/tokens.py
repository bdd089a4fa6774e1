"""How apps' tokens are issued and renewed (settings.HEADLESS_TOKEN_STRATEGY).

allauth's JWT strategy, with one change: a refresh token works once even when an app sends it
several times at once. allauth reads the session's list of valid refresh tokens, drops the one
used and saves the list; two refreshes that read the list before either saved it would both
succeed, and one of the new refresh tokens would stay valid. Refreshes of one user are serialized
here on the user's row, so the second one reads the list the first one saved, and is refused.
"""

import jwt
from allauth.headless.tokens.strategies.jwt import JWTTokenStrategy
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import User


class SerializedRefreshJWTTokenStrategy(JWTTokenStrategy):
    def refresh_token(self, refresh_token):
        try:
            # Only to choose which row to lock: allauth checks the token itself, inside the lock.
            subject = jwt.decode(refresh_token, options={"verify_signature": False}).get("sub")
        except jwt.PyJWTError:
            return None
        with transaction.atomic():
            try:
                list(User.objects.select_for_update().filter(pk=subject).values_list("pk"))
            except (ValidationError, ValueError, TypeError):  # not a user id at all
                return None
            return super().refresh_token(refresh_token)
