"""Texts of Django and django-allauth that our catalog translates again: in voseo, as the site
speaks ("Ingresá", "Olvidaste"), where their own Spanish says "Ingrese" or is missing for es_AR.

Nothing calls these: they are here so that `make messages` (which keeps only what the site's own
code and templates use) keeps their translations. Each is marked with where it comes from; when a
library changes a text, its old entry here stops matching and can go.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

OVERRIDES = [
    # Translators: django-allauth's text (allauth.mfa).
    gettext_noop(
        "Enabling passwordless operation allows you to sign in using just this key, but imposes "
        "additional requirements such as biometrics or PIN protection."
    ),
    # Translators: django-allauth's text (allauth.mfa).
    gettext_noop(
        "You cannot activate two-factor authentication until you have verified your email address."
    ),
    # Translators: django-allauth's text (allauth.mfa).
    gettext_noop(
        "You cannot add an email address to an account protected by two-factor authentication."
    ),
    # Translators: django-allauth's text (allauth.mfa).
    gettext_noop(
        "You cannot generate recovery codes without having two-factor authentication enabled."
    ),
    # Translators: django-allauth's text.
    gettext_noop("Password"),
    # Translators: django-allauth's text.
    gettext_noop(
        '<strong>Note:</strong> you can still <a href="%(email_url)s">change your email address</a>.'
    ),
    # Translators: django-allauth's text.
    gettext_noop("Be patient, you are sending too many requests."),
    # Translators: django-allauth's text.
    gettext_noop("Do you really want to remove the selected email address?"),
    # Translators: django-allauth's text.
    gettext_noop("Enter a phone number including country code (e.g. +1 for the US)."),
    # Translators: django-allauth's text.
    gettext_noop("Enter your password:"),
    # Translators: django-allauth's text.
    gettext_noop("Forgot your password?"),
    # Translators: django-allauth's text.
    gettext_noop(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user %(user_display)s.'
    ),
    # Translators: django-allauth's text.
    gettext_noop("Please reauthenticate to safeguard your account."),
    # Translators: django-allauth's text.
    gettext_noop("Please select only one."),
    # Translators: django-allauth's text.
    gettext_noop("Please type your current password."),
    # Translators: django-allauth's text.
    gettext_noop("Send me a sign-in code"),
    # Translators: django-allauth's text.
    gettext_noop("The email address and/or password you specified are not correct."),
    # Translators: django-allauth's text.
    gettext_noop("The following email addresses are associated with your account:"),
    # Translators: django-allauth's text.
    gettext_noop("The phone number and/or password you specified are not correct."),
    # Translators: django-allauth's text.
    gettext_noop("The username and/or password you specified are not correct."),
    # Translators: django-allauth's text.
    gettext_noop(
        'This email confirmation link expired or is invalid. Please <a href="%(email_url)s">issue a new email confirmation request</a>.'
    ),
    # Translators: django-allauth's text.
    gettext_noop(
        "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, we require that you\nverify ownership of your email address. "
    ),
    # Translators: django-allauth's text.
    gettext_noop("Too many failed login attempts. Try again later."),
    # Translators: django-allauth's text.
    gettext_noop("Use authenticator app or code"),
    # Translators: django-allauth's text.
    gettext_noop("Use your password"),
    # Translators: django-allauth's text.
    gettext_noop("Username can not be used. Please use other username."),
    # Translators: django-allauth's text.
    gettext_noop("Verify Your Email Address"),
    # Translators: django-allauth's text.
    gettext_noop(
        "We have sent an email to you for\nverification. Please click on the link inside that email. If you do not see the verification email in your main inbox, check your spam folder. Otherwise\ncontact us if you do not receive it within a few minutes."
    ),
    # Translators: django-allauth's text.
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize the signup process. If you do not see the verification email in your main inbox, check your spam folder. Please contact us if you do not receive the verification email within a few minutes."
    ),
    # Translators: django-allauth's text.
    gettext_noop("You are already logged in as %(user_display)s."),
    # Translators: django-allauth's text.
    gettext_noop("You cannot add more than %d email addresses."),
    # Translators: django-allauth's text.
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    # Translators: django-allauth's text.
    gettext_noop("You cannot remove your primary email address."),
    # Translators: django-allauth's text.
    gettext_noop(
        "You currently do not have any email address set up. You should really add an email address so you can receive notifications, reset your password, etc."
    ),
    # Translators: django-allauth's text.
    gettext_noop("You have confirmed %(email)s."),
    # Translators: django-allauth's text.
    gettext_noop("You must type the same email each time."),
    # Translators: django-allauth's text.
    gettext_noop("You must type the same password each time."),
    # Translators: django-allauth's text.
    gettext_noop("Your email has been confirmed."),
    # Translators: django-allauth's text.
    gettext_noop("Your primary email address must be verified."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Ensure this value is %(limit_value)s (it is %(show_value)s)."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop(
        "Ensure this value is a multiple of step size %(limit_value)s, starting from %(offset)s, e.g. %(offset)s, %(valid_value1)s, %(valid_value2)s, and so on."
    ),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Ensure this value is a multiple of step size %(limit_value)s."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Ensure this value is greater than or equal to %(limit_value)s."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a complete value."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a list of values."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a number."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid %(protocol)s address."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid JSON."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid URL."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid UUID."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid date."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid date/time."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid domain name."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid duration."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid email address."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid integer."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid time."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid value."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop(
        "Enter a valid “slug” consisting of Unicode letters, numbers, underscores, or hyphens."
    ),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter a whole number."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Enter only digits separated by commas."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("No file was submitted. Check the encoding type on the form."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Please correct the duplicate data for %(field)s, which must be unique."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Please correct the duplicate data for %(field)s."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop(
        "Please correct the duplicate data for %(field_name)s which must be unique for the %(lookup)s in %(date_field)s."
    ),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Please correct the duplicate values below."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Please either submit a file or check the clear checkbox, not both."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Select a valid choice. That choice is not one of the available choices."),
    # Translators: Django (forms and validators)'s text.
    gettext_noop(
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure that there are no more than %(max)s decimal place.",
        "Ensure that there are no more than %(max)s decimal places.",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure that there are no more than %(max)s digit before the decimal point.",
        "Ensure that there are no more than %(max)s digits before the decimal point.",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure that there are no more than %(max)s digit in total.",
        "Ensure that there are no more than %(max)s digits in total.",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure this filename has at most %(max)d character (it has %(length)d).",
        "Ensure this filename has at most %(max)d characters (it has %(length)d).",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "n",
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Please submit at least %(num)d form.", "Please submit at least %(num)d forms.", "n"
    ),
    # Translators: Django (forms and validators)'s text.
    ngettext_lazy(
        "Please submit at most %(num)d form.", "Please submit at most %(num)d forms.", "n"
    ),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Mon"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Tue"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Wed"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Thu"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Fri"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Sat"),
    # Translators: Django (forms and validators)'s text.
    gettext_noop("Sun"),
    # Translators: Django (django.contrib.auth)'s text.
    gettext_noop("Your password can’t be a commonly used password."),
    # Translators: Django (django.contrib.auth)'s text.
    gettext_noop("Your password can’t be entirely numeric."),
    # Translators: Django (django.contrib.auth)'s text.
    gettext_noop("Your password can’t be too similar to your other personal information."),
    # Translators: Django (django.contrib.auth)'s text.
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "n",
    ),
]
