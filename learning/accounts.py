"""allauth integration: accounts come from the roster, so nobody signs up."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False

    def set_password(self, user, password):
        """The user chose this password themself (change or reset): the
        first-login requirement is met."""
        user.set_password(password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
