"""Dates as people in Argentina write them, for Django's own date formatting (the admin, the
`date` filter): "5 de enero de 2026, 10:30". Django's es_AR formats give "5 Enero 2026 10:30"
(a capitalised month without "de"). Month names come from our catalog, which writes them in
lower case ("enero", "septiembre"). Read through settings.FORMAT_MODULE_PATH; what is not
here (input formats, the first day of the week) stays Django's es_AR."""

DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
MONTH_DAY_FORMAT = r"j \d\e F"
YEAR_MONTH_FORMAT = r"F \d\e Y"
