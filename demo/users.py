"""Who the demo is: its logins, all with one password (README, "Two commands")."""

DEMO_PASSWORD = "turnos-demo-2026"
PATIENT = "paciente@turnos.example"
OTHER_PATIENT = "otra.paciente@turnos.example"
PROFESSIONAL = "lic.gomez@turnos.example"
SECOND_PROFESSIONAL = "dr.ruiz@turnos.example"
STAFF = "recepcion@turnos.example"
