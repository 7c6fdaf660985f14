import functools
import hashlib

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

from . import crypto


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """The default hasher: Argon2id (RFC 9106) with OWASP's first recommended setting
    (Password Storage Cheat Sheet: 19 MiB of memory, 2 passes, 1 lane). Django's own
    Argon2 hasher asks for 100 MiB and 8 lanes, about 0.3 s of CPU per sign-in; this
    costs about 40 ms here (bench/password_hash.py), so 3,000 sign-ins on an exam
    morning take two minutes of one core, not fourteen. The algorithm name is
    Django's ("argon2"): hashes made with other parameters still verify and are
    re-hashed with these at their owner's next sign-in, as PBKDF2 hashes are."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1


class InitialPasswordHasher(PBKDF2PasswordHasher):
    """For the random one-time passwords a roster import hands out. Rounds slow down
    guessing weak passwords; these are 12 random characters from 56 (about 70 bits),
    which no number of guesses reaches, so a thousand rounds are plenty and keep a
    20,000-official roster importing in seconds. Django upgrades the hash to the
    default hasher at the first sign-in, and the user must choose a new password
    straight away."""

    algorithm = "pbkdf2_sha256_initial"
    iterations = 1_000


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with HMAC-SM3 (GB/T 32905), for deployments assessed under GB/T 39786
    (密评): the default hasher while `XUEFA_SM_CRYPTO` is on, so every other hash is
    replaced at its owner's next sign-in. SM3 is slower than SHA-256 in OpenSSL, so
    the rounds are set for a sign-in of about 50 ms rather than matched to Django's
    SHA-256 count; raising them re-hashes at the next sign-in too."""

    algorithm = "pbkdf2_sm3"
    iterations = 80_000
    digest = functools.partial(hashlib.new, "sm3")


class InitialSM3PasswordHasher(PBKDF2SM3PasswordHasher):
    """The roster's one-time passwords while `XUEFA_SM_CRYPTO` is on: the reasoning of
    InitialPasswordHasher, with as many rounds as cost the same time."""

    algorithm = "pbkdf2_sm3_initial"
    iterations = 400


def initial_password_hasher():
    """The algorithm that hashes a roster's initial passwords."""
    if crypto.enabled():
        return InitialSM3PasswordHasher.algorithm
    return InitialPasswordHasher.algorithm
