from django.contrib.auth.hashers import PBKDF2PasswordHasher


class InitialPasswordHasher(PBKDF2PasswordHasher):
    """For the random one-time passwords a roster import hands out: 12 random
    characters need fewer PBKDF2 rounds, which keeps importing thousands of
    officials fast. Django upgrades the hash to the default hasher at the first
    sign-in, and the user must choose a new password straight away."""

    algorithm = "pbkdf2_sha256_initial"
    iterations = 20_000
