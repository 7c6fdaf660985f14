from django.contrib.auth.hashers import PBKDF2PasswordHasher


class InitialPasswordHasher(PBKDF2PasswordHasher):
    """For the random one-time passwords a roster import hands out. Rounds slow down
    guessing weak passwords; these are 12 random characters from 56 (about 70 bits),
    which no number of guesses reaches, so a thousand rounds are plenty and keep a
    20,000-official roster importing in seconds. Django upgrades the hash to the
    default hasher at the first sign-in, and the user must choose a new password
    straight away."""

    algorithm = "pbkdf2_sha256_initial"
    iterations = 1_000
