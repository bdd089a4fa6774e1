"""Who may set or reset someone's credentials (password, email, factors): the one rule, asked by
every door that changes them (the user admin's password page, its email field, the invitation;
the factor reset).

An account that opens other people's data (staff, superusers, professionals) is taken over by
whoever sets its password or its email. So only a superuser, or the person themself, may do it.
Patients' accounts stay in reception's hands: reception registers them and invites them."""


def is_privileged(user):
    return user.is_staff or user.is_superuser or hasattr(user, "professional_profile")


def may_manage_credentials(actor, target):
    """Whether `actor` may set or reset `target`'s password, email or factors."""
    if actor.is_superuser or actor.pk == target.pk:
        return True
    return not is_privileged(target)
