"""The practice's roles as groups of permissions, kept here and written to the database after
every `migrate` (a post_migrate receiver, apps.py): adding a permission below reaches every
existing database at its next `make migrate`, and a permission added to the group by hand in the
admin is taken away again. Each person's role is a superuser's decision: staff status plus the
group (README, "Reception").

Reception books, moves and cancels sessions (series too), registers patients and professionals
(each invited as they are added; only a patient's invitation may reception send again), keeps the
professionals' hours and absences, the practice's closures and each professional's price, refunds
payments and records sessions paid by other means, and reads the logs of what happened to sessions,
hours and messages, and the patients' deletion requests. It deletes nothing but an
hour range, an absence or a closure (the only deletions the site has; hours and absences are
recorded, a closure in the admin's own history). What it cannot reach is decided by the admin
itself, whatever a group holds: the superuser switch, groups, permissions and staff status
(accounts/admin.py), a staff member's or a professional's password and email
(accounts/credentials.py), the access log, second factors, email addresses, task results and other
people's login sessions (superusers only, or no permission here)."""

from django.core.exceptions import ImproperlyConfigured
from django.db import router

RECEPTION = "Recepción"

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

# group -> {"app_label.model": actions}
ROLES = {
    RECEPTION: {
        "reservations.reservation": (VIEW, ADD, CHANGE),
        "reservations.reservationevent": (VIEW,),
        "accounts.user": (VIEW, ADD, CHANGE),
        "accounts.professionalprofile": (VIEW, ADD, CHANGE),
        "series.series": (VIEW, ADD, CHANGE),
        # A series' page lists its sessions, skipped dates and log (read-only inlines).
        "series.occurrence": (VIEW,),
        "series.skippedoccurrence": (VIEW,),
        "series.seriesevent": (VIEW,),
        # Removing a range of hours or an absence typed by mistake: recorded (ScheduleChange).
        "scheduling.workinghours": (VIEW, ADD, CHANGE, DELETE),
        "scheduling.timeoff": (VIEW, ADD, CHANGE, DELETE),
        "scheduling.schedulechange": (VIEW,),
        # The practice's closures (summer holidays): no slot for anyone on those days.
        "scheduling.closure": (VIEW, ADD, CHANGE, DELETE),
        # Whether a message went, and retrying one that failed (the outbox's own action).
        "notifications.outbox": (VIEW,),
        # The open requests and their deadlines; carrying one out or refusing it (an erasure
        # cannot be undone) is the practice's decision: a superuser's.
        "privacy.deletionrequest": (VIEW,),
        # Each professional's price and payment policy (setting up a new one's too); the payments
        # and refunds as Mercado Pago reported them, never edited. ADD is reception's two pages of
        # its own (payments/admin.py): a session paid by other means recorded (a payment), and a
        # payment refunded, all or part (a refund); never the admin's plain add form.
        "payments.paymentpolicy": (VIEW, ADD, CHANGE),
        "payments.payment": (VIEW, ADD),
        "payments.refund": (VIEW, ADD),
    },
}


def codenames(models):
    """{(app_label, codename)} for a role's {"app_label.model": actions}."""
    pairs = set()
    for label, actions in models.items():
        app_label, model = label.split(".")
        pairs.update((app_label, f"{action}_{model}") for action in actions)
    return pairs


def sync_roles(apps, using="default"):
    """Make each group hold exactly its permissions (created if missing). Idempotent."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, models in ROLES.items():
        wanted = codenames(models)
        found = {
            (p.content_type.app_label, p.codename): p
            for p in Permission.objects.using(using)
            .select_related("content_type")
            .filter(content_type__app_label__in={app for app, _ in wanted})
        }
        missing = wanted - found.keys()
        if missing:
            # A model renamed or removed: say so rather than quietly give less.
            raise ImproperlyConfigured(
                f"The group {name!r} names permissions that do not exist: {sorted(missing)}"
            )
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([found[pair] for pair in wanted])


def sync_after_migrate(sender, app_config=None, using="default", apps=None, **kwargs):
    """post_migrate is sent once per installed app with models, in INSTALLED_APPS order, and
    each app's permissions are created on its own signal: act on the last one's, when all
    exist."""
    from django.apps import apps as global_apps

    last = [config for config in global_apps.get_app_configs() if config.models_module][-1]
    if sender.label != last.label:
        return
    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
    except LookupError:  # migrated back to before auth's tables
        return
    if not router.allow_migrate_model(using, Group):
        return
    sync_roles(apps, using)
