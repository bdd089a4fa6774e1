"""{% load phones %}: {{ number|phone_text }}, {{ number|tel_href }}, {{ number|whatsapp_href }}
(accounts.phones). A number that is not valid gets no link ('')."""

from django import template

from accounts import phones

register = template.Library()

register.filter("phone_text", phones.text)
register.filter("tel_href", phones.tel_href)
register.filter("whatsapp_href", phones.whatsapp_href)
