"""Who the demo is: its logins, all with one password (README, "Two commands")."""

DEMO_PASSWORD = "turnos-demo-2026"
PATIENT = "paciente@turnos.example"
OTHER_PATIENT = "otra.paciente@turnos.example"
PROFESSIONAL = "lic.gomez@turnos.example"
SECOND_PROFESSIONAL = "dr.ruiz@turnos.example"
STAFF = "recepcion@turnos.example"
# The group she is in; reservations_site/roles.py writes it, with its permissions, at every
# migrate (the demo sits below the site in the layers, so it names the group rather than
# importing it; tests/test_reception_role.py checks the two agree).
RECEPTION = "Recepción"
