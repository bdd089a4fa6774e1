from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Patients are registered by the practice; an open sign-up would only create empty accounts.
        return False
