"""A user's private calendar subscription link.

The URL carries a token the database never holds. Each link has a random `seed`; the token is
an HMAC of that seed under the site's SECRET_KEY, and the row keeps the token's SHA-256 to find
it. So:

- the preferences page can show the link again at any time (recomputed from the seed): a
  patient who subscribed on a laptop can add it on a phone later without revoking the first;
- a copy of the database alone (a backup, a dump) gives no working link: the seed is useless
  without SECRET_KEY, and the hash cannot be turned back into the token;
- a request is found by one indexed lookup of the hash of what it carries.

Rotating SECRET_KEY (with the old key in SECRET_KEY_FALLBACKS) leaves existing links working:
the lookup needs no key, and the page recomputes the link under each key until one matches.
"Generate a new link" revokes the live link (revoked_at) and makes another; revoked rows stay
as the record of which links existed.
"""

import base64
import hashlib
import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

_KEY_SALT = "calendars.FeedToken"


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def _token(seed, secret):
    digest = salted_hmac(_KEY_SALT, seed, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()  # 43 characters, 256 bits


class FeedToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feed_tokens",
        verbose_name=_("user"),
    )
    seed = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar link")
        verbose_name_plural = _("calendar links")
        constraints = [
            # One live link per user: two racing "new link" requests cannot leave two.
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_live_feed_token"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.created_at:%Y-%m-%d}"

    @classmethod
    def issue(cls, user, now=None):
        """Revoke the user's live link, if any, and make a new one."""
        now = now or timezone.now()
        seed = secrets.token_urlsafe(32)
        with transaction.atomic():
            cls.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
            return cls.objects.create(
                user=user,
                seed=seed,
                token_hash=_hash(_token(seed, settings.SECRET_KEY)),
                created_at=now,
            )

    @classmethod
    def for_user(cls, user):
        """The user's live link, made on first use."""
        live = cls.objects.filter(user=user, revoked_at__isnull=True).first()
        if live:
            return live
        try:
            return cls.issue(user)
        except IntegrityError:  # another request made it first: that one is the link
            return cls.objects.get(user=user, revoked_at__isnull=True)

    @classmethod
    def find(cls, token):
        """The live link `token` belongs to, with its user, or None (unknown or revoked)."""
        return (
            cls.objects.filter(
                token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True
            )
            # The profile too: a professional's feed is named after them (calendars.feed).
            .select_related("user__professional_profile")
            .first()
        )

    @property
    def token(self):
        """What the URL carries, or None if no key the site still has made it."""
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
            token = _token(self.seed, secret)
            if _hash(token) == self.token_hash:
                return token
        return None
