"""The one settings module. Everything that differs between machines comes from the environment.

With nothing set, the site runs in development mode on an SQLite file in the project root.
DEBUG=0 is production mode: it refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name, default=()):
    value = os.environ.get(name)
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG=0.")

INSTALLED_APPS = [
    # The core: people, and the reservation with its rules and its events. No pages.
    "accounts",
    "audit",  # the access log: who opened whose data (append-only)
    "reservations",
    # Capabilities beside the core, depending on it and never the other way:
    "scheduling",  # working hours, time off, free slots, booking and rescheduling
    "series",  # weekly series
    "notifications",  # messages (the outbox) and reminders
    "calendars",  # calendar entries: the feed and each session's .ics
    "privacy",  # each patient's data: their copy, deletion requests, the deletion (Ley 25.326)
    "payments",  # prices, payment policies, Mercado Pago's payments and refunds
    # Doors onto both (and the admin, in each app's admin.py):
    "portal",  # the patient's pages
    "agenda",  # the professional's pages
    "api",  # the JSON API
    # The site that puts them together: settings, URLs, error pages, the pages' template tags.
    "reservations_site",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "phonenumber_field",  # phone numbers in E.164 (accounts/phones.py)
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",  # two-step verification: authenticator apps, recovery codes, passkeys
    "allauth.headless",
    "allauth.usersessions",  # each person's list of their sessions, to end them
    "ninja",  # serves Swagger UI's files locally
    "django_tasks",
    "django_tasks_db",
    # The demo's data (seed_demo, seed_demo_series): on top of everything, imported by nothing.
    "demo",
]

MIDDLEWARE = [
    # Gives each request an id for the logs (reservations_site/logging.py).
    "reservations_site.logging.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy: no page of ours uses the camera, the microphone or the location.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every answer to a logged-in person is theirs: Cache-Control: private, no-store (unless the
    # view chose its own). Below whitenoise, so static files keep their far-future caching.
    "reservations_site.middleware.PrivateCacheMiddleware",
    # Before the session timeouts: they say why with a message, and answer htmx with HX-Redirect.
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Ends a session idle or too old for its role, and records its last-seen time once a minute
    # (also what allauth.usersessions' list shows: its own middleware would write every request).
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # The logged-in person's language over LocaleMiddleware's (cookie, browser) choice.
    "accounts.middleware.UserLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff and professionals without a second factor see only the pages that set one up.
    "accounts.enrolment.EnrolmentRequiredMiddleware",
]

ROOT_URLCONF = "reservations_site.urls"
WSGI_APPLICATION = "reservations_site.wsgi.application"

# One template language, Django's: every page (each door's app templates, templates/ for the
# layout, allauth's pages and the error pages), the admin and the emails. htmx fragments are named
# partials of the page's own template (django-template-partials: "page.html#partial"), whose app
# wraps these loaders in its own and in the cached loader (template_partials/apps.py).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite file in the project root unless DATABASE_URL says otherwise.
# Persistent connections with health checks: reconnecting per request halves PostgreSQL throughput,
# and a connection the database dropped (a restart) is replaced before it is used.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer in time is an outage (503), not a hung worker.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        "options": f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 10000)}",
    }

AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time
LANGUAGE_CODE = "es-ar"
# Our date formats before Django's: "5 de enero de 2026", not "5 Enero 2026" (the admin's dates).
FORMAT_MODULE_PATH = ["reservations_site.formats"]
LANGUAGES = [("es-ar", _("Spanish (Argentina)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language chosen in the footer or on /preferences/ is remembered for a year, not a visit.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("TIME_ZONE", "America/Argentina/Buenos_Aires")

# Static files: whitenoise serves them compressed; in production hashed and cached far ahead.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Accounts (django-allauth). Patients are registered by the practice, so sign-up is closed.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "reservations_site.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Login throttling (django-allauth), per address and per account. The admin login goes through
# the same form (reservations_site/urls.py). Behind a load balancer, set TRUSTED_PROXY_COUNT to
# the number of proxies that append to X-Forwarded-For, or every patient shares the proxy's limit.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Per account, only what stops guessing from many addresses: locking an account per address
    # is accounts/lockout.py's, so that knowing someone's email is not enough to lock them out.
    "login_failed": "10/m/ip,30/h/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Two-step verification (allauth.mfa): a code from an authenticator app (TOTP), a passkey or
# security key (WebAuthn), and one-time recovery codes for a lost phone. Required of staff and
# professionals (accounts/enrolment.py): with MFA_REQUIRED_FOR_STAFF they set it up at their next
# login before any other page opens, and the API refuses them until they do. Optional for
# patients (Preferences). A superuser resets a lost factor in the admin (user -> "Reset two-step
# verification"). WebAuthn needs a secure context: HTTPS, or http://localhost (not 127.0.0.1).
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", True)
MFA_ADAPTER = "accounts.enrolment.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# A passkey is a second step after the password, not a way to skip it.
MFA_PASSKEY_LOGIN_ENABLED = False
# Recovery codes are shown once, right after they are made: a stolen session cannot read them.
MFA_RECOVERY_CODES_SHOW_ONCE = True
MFA_TOTP_ISSUER = env("SITE_NAME", "Turnos")  # SITE_NAME (below): what the app calls the account
# allauth refuses a factor to an unverified address, lest someone sign up with another person's
# email and lock them out. Nobody signs up here: the practice registers every address.
MFA_ALLOW_UNVERIFIED_EMAIL = True

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Turnos <no-reply@turnos.example>")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # TLS from the start, usually on port 465
# A message that cannot be handed to the server in this long fails this attempt and is retried
# (notifications.models.Outbox), rather than holding a worker.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# Sessions live in the database, the one place that decides who is logged in
# (accounts/middleware.py). A session ends after a time without a request (idle) or a time after
# its login (absolute), whichever comes first; staff and professionals have shorter ones than
# patients. Seconds. The cookie lasts as long as a patient's session may.
SESSION_ENGINE = "accounts.sessions"
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 2 * 60 * 60)
SESSION_IDLE_TIMEOUT_STAFF = env_int("SESSION_IDLE_TIMEOUT_STAFF", 30 * 60)
SESSION_MAX_AGE = env_int("SESSION_MAX_AGE", int(timedelta(days=14).total_seconds()))
SESSION_MAX_AGE_STAFF = env_int("SESSION_MAX_AGE_STAFF", 12 * 60 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", SESSION_MAX_AGE)
# allauth.usersessions (Preferences → "Where you are logged in"): allauth's own tracking writes
# the session's row on every request and every API call; the middleware above updates it with
# the session's own once-a-minute write instead.
USERSESSIONS_TRACK_ACTIVITY = False
# Asking for the password again (allauth): before changing an email address or a factor, and
# before our own sensitive actions (reception's bulk cancels, changing someone's role). It holds
# for ACCOUNT_REAUTHENTICATION_TIMEOUT seconds. allauth.mfa asks for its factors by itself
# (MFA_REAUTHENTICATION_REQUIRED, True unless set).
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("REAUTHENTICATION_TIMEOUT", 5 * 60)

# Rate-limit counters. Losing Redis must not take the site down, and a limit that guards logins
# must hold across every server process:
# - "default" (django-allauth's login and password-reset limits, accounts/lockout.py's counters)
#   is a table of its own in the database the site needs anyway: logins stay throttled whatever
#   happens to Redis. `make migrate` creates it. A live lock is never evicted: Django's database
#   cache culls a third of its rows, in key order, whenever it holds more than MAX_ENTRIES, so
#   enough counters (many addresses, many emails) would delete locks; MAX_ENTRIES is set beyond
#   reach, and the expired rows are deleted by the worker's sweep instead
#   (accounts.lockout.delete_expired, every 5 minutes).
# - "api" (the API's per-user limit, counted on every API request) is Redis when REDIS_URL is set.
#   django-redis's IGNORE_EXCEPTIONS makes an unreachable Redis a cache that remembers nothing:
#   the API then answers without its limit (each miss is logged) instead of failing.
REDIS_URL = env("REDIS_URL")
REDIS_TIMEOUT = float(env("REDIS_TIMEOUT", "0.5"))
API_CACHE_OPTIONS = {
    "IGNORE_EXCEPTIONS": True,
    # An unreachable or hung Redis costs an API request at most REDIS_TIMEOUT (0.5 s), not a
    # hung worker. A request makes at most two round trips (django-ratelimit's add, then incr
    # when the add failed), each a connect and a read: a quarter each.
    "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT / 4,
    "SOCKET_TIMEOUT": REDIS_TIMEOUT / 4,
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "turnos_cache",
        "OPTIONS": {"MAX_ENTRIES": 2**62},
    },
    "api": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": API_CACHE_OPTIONS,
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
RATELIMIT_USE_CACHE = "api"
# With the counters unreadable, django-ratelimit lets the request through rather than refuse it.
RATELIMIT_FAIL_OPEN = True

# Background work (Django's tasks API, the django-tasks backport): tasks are rows in the database
# and `make worker` (manage.py db_worker) runs them; several workers on several machines are safe
# (each claims a task with SELECT … FOR UPDATE SKIP LOCKED). Tests use the same backend and run
# the worker (`db_worker --batch`) where they need a task done: the immediate backend cannot hold a
# task until later, and expiries and reminders are tasks for later.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# A weekly series' sessions are created this far ahead; the worker extends them daily.
SERIES_HORIZON_WEEKS = env_int("SERIES_HORIZON_WEEKS", 12)

# How long a patient's pending request holds its slot when nobody confirms it.
PENDING_EXPIRY_HOURS = env_int("PENDING_EXPIRY_HOURS", 48)

# Patients booking online (scheduling/booking.py): whether they may book any professional with
# working hours, or only those they have already seen; how many requests a patient may have
# waiting for one professional's confirmation; and how many bookings and reschedules a patient
# may make (the API has its own API_RATE_LIMIT).
BOOKING_OPEN_TO_ALL = env_bool("BOOKING_OPEN_TO_ALL", True)
BOOKING_MAX_PENDING = env_int("BOOKING_MAX_PENDING", 1)
BOOKING_RATE_LIMIT = env("BOOKING_RATE_LIMIT", "10/h")

# Mercado Pago (payments/, docs/operations.md): the integration's access token and its webhooks'
# secret, from Mercado Pago's developer panel. MERCADOPAGO_API_URL blank is Mercado Pago's API;
# set, every call goes there instead (the local stand-in: manage.py mercadopago_standin).
MERCADOPAGO_ACCESS_TOKEN = env("MERCADOPAGO_ACCESS_TOKEN")
MERCADOPAGO_WEBHOOK_SECRET = env("MERCADOPAGO_WEBHOOK_SECRET")
MERCADOPAGO_API_URL = env("MERCADOPAGO_API_URL")
# Where booking and "Pay" send the patient: Checkout Pro's pages (the stand-in's own when it is
# used). Browsers check a form's redirects against CSP form-action too, so these are allowed there.
MERCADOPAGO_CHECKOUT_ORIGINS = (
    [MERCADOPAGO_API_URL.rstrip("/")]
    if MERCADOPAGO_API_URL
    else ["https://www.mercadopago.com.ar", "https://sandbox.mercadopago.com.ar"]
)
# How long a session booked with a payment due is held for its patient to pay (never past its
# start); unpaid by then, it lapses and frees its time. The worker asks Mercado Pago about open
# holds and refunds in progress this often, for the notifications that never came.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 30)
PAYMENT_RECONCILE_MINUTES = env_int("PAYMENT_RECONCILE_MINUTES", 2)

# The practice's default cancellation notice; each professional may set their own.
DEFAULT_CANCELLATION_NOTICE_HOURS = env_int("DEFAULT_CANCELLATION_NOTICE_HOURS", 48)

# The practice: its name (in emails and pages, never a host name), and how patients reach it and
# where it is when a professional has not set their own (admin -> user -> professional profile).
SITE_NAME = env("SITE_NAME", "Turnos")
# Where the site is, for links in messages and calendars (sent by the worker: no request to ask).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
# Phone numbers (accounts/phones.py) are stored in E.164 and read in this country's own way:
# with AR, "011 15 5555-0101" is +54 9 11 5555-0101. The practice's numbers may be written either
# way; one that is not a valid number stops the site at startup rather than making broken links.
PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", "AR")
PHONENUMBER_DB_FORMAT = "E164"


def env_phone(name):
    """The number in `name`, in E.164 ('' when unset); ImproperlyConfigured when not valid."""
    value = env(name).strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a valid phone number for region "
            f"{PHONENUMBER_DEFAULT_REGION} (PHONENUMBER_DEFAULT_REGION): write it as dialled "
            f"there, e.g. 011 15 5555-0101, or in international form, e.g. +54 9 11 5555-0101."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PRACTICE_PHONE = env_phone("PRACTICE_PHONE")
PRACTICE_WHATSAPP = env_phone("PRACTICE_WHATSAPP")
PRACTICE_EMAIL = env("PRACTICE_EMAIL")
PRACTICE_ADDRESS = env("PRACTICE_ADDRESS")

# The country whose national holidays close the practice (no slots, a new series skips them), as
# the `holidays` package names it ("AR"); empty: the practice works on holidays. Its own closures
# (summer holidays) are typed in the admin (scheduling.Closure).
PRACTICE_HOLIDAYS = env("PRACTICE_HOLIDAYS", "AR").strip().upper()

# Uploads (professionals' photos), through Django's default storage.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

# Security. Production (DEBUG=0) assumes HTTPS, terminated here or by a proxy that sets
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER=1 to trust it).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = {"camera": [], "microphone": [], "geolocation": []}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Who to tell about a vulnerability (/.well-known/security.txt, RFC 9116): a mailto: or https: URI.
SECURITY_CONTACT = env("SECURITY_CONTACT") or (
    f"mailto:{PRACTICE_EMAIL}" if PRACTICE_EMAIL else "mailto:security@turnos.example"
)
# A strict Content-Security-Policy everywhere (development too, so tests catch violations):
# no inline scripts or styles, nothing from other origins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # Booking and "Pay" post here and are redirected to Mercado Pago's checkout.
        "form-action": ["'self'", *MERCADOPAGO_CHECKOUT_ORIGINS],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
    }
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A load balancer probes over plain HTTP: answer it rather than redirect it.
    SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # No script of ours reads the CSRF cookie: forms carry the token, htmx posts those forms, and
    # Swagger UI takes it from its page.
    CSRF_COOKIE_HTTPONLY = True
    # __Host- cookies: HTTPS only, this host only, path / — no subdomain can set or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
    TEMPLATES[0]["OPTIONS"]["debug"] = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "reservations_site.logging.RequestContextFilter"}},
    "formatters": {
        "plain": {
            "()": "reservations_site.logging.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s request=%(request_id)s "
            "user=%(user_id)s path=%(path)s %(message)s",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# JSON API (api/, django-ninja) and token login for apps (allauth headless).
# The browser keeps using the server-rendered allauth pages; apps log in at
# POST /_allauth/app/v1/auth/login and send `Authorization: Bearer <meta.access_token>`.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
# allauth's JWT strategy, with each user's refreshes serialized so a refresh token works once.
HEADLESS_TOKEN_STRATEGY = "accounts.tokens.SerializedRefreshJWTTokenStrategy"
# RS256 when JWT_PRIVATE_KEY holds an RSA private key (PEM; "\n" escapes allowed), else HS256
# signed with SECRET_KEY: this site both issues and checks its tokens, so a shared secret is
# enough until another service must verify them (then use RS256 and publish the public key).
HEADLESS_JWT_PRIVATE_KEY = env("JWT_PRIVATE_KEY").replace("\\n", "\n")
HEADLESS_JWT_ALGORITHM = "RS256" if HEADLESS_JWT_PRIVATE_KEY else "HS256"
# Access tokens live 15 minutes; apps renew them with the refresh token (1 day).
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env_int("JWT_ACCESS_TOKEN_LIFETIME", 15 * 60)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env_int("JWT_REFRESH_TOKEN_LIFETIME", 24 * 60 * 60)
# Each request re-reads the token's session: logging out, a password change or deactivating
# the user revokes access tokens at once instead of when they expire (two small queries).
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
# Requests per authenticated user to /api/, counted in the cache (shared when REDIS_URL is set).
API_RATE_LIMIT = env("API_RATE_LIMIT", "120/min")
