"""Chinese commercial cryptography (商用密码) for a GB/T 39786-2021 (密评) deployment:
SM4 in GCM mode seals personal data at rest, a keyed SM3 digest (HMAC-SM3) finds it
again by exact value (`learning/personal_data.py`), and PBKDF2-HMAC-SM3 hashes
passwords (`learning/hashers.py`). Nothing here is used until `XUEFA_SM_CRYPTO` is
on; `docs/security.md` maps it to the standard.

A sealed value reads `sm4gcm:<key id>:<base64url(nonce | ciphertext | tag)>`. The key
id names the SM4 key that sealed it, so values sealed with an older key still open
while `manage.py rotate_sm4_key` moves them to the current one."""

import base64
import binascii
import functools
import hashlib
import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MARKER = "sm4gcm"
KEY_BYTES = 16  # SM4 has 128-bit keys
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_DIGEST_KEY_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class UnknownKey(ImproperlyConfigured):
    """A value was sealed with a key id that is neither the current key nor an old one."""


class TamperedValue(ValueError):
    """A sealed value does not authenticate: changed in the database, or moved from
    another column."""


def enabled():
    """Whether new values are sealed and passwords hashed with SM3 (`XUEFA_SM_CRYPTO`)."""
    return getattr(settings, "XUEFA_SM_CRYPTO", False)


def keys_configured():
    """Whether an SM4 key is set: sealed values are then opened on reading, even with
    the switch off (the way back is `encrypt_personal_data --decrypt`)."""
    return bool(getattr(settings, "XUEFA_SM4_KEY", ""))


@functools.cache
def sm3_available():
    """Whether Python's hashlib (its OpenSSL) computes SM3, which the password hasher
    needs. OpenSSL 1.1.1 and 3.x have it unless built without it."""
    try:
        hashlib.new("sm3")
    except ValueError:
        return False
    return True


@functools.cache
def sm4_available():
    """Whether the cryptography package's OpenSSL has SM4 in GCM mode and HMAC-SM3."""
    try:
        sealed = _seal(bytes(KEY_BYTES), b"probe", b"")
        _open(bytes(KEY_BYTES), sealed, b"")
        _hmac(bytes(MIN_DIGEST_KEY_BYTES), b"probe")
    except (UnsupportedAlgorithm, ValueError):
        return False
    return True


# --- Keys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    current: str  # the id of the key that seals new values
    keys: dict  # key id -> key: the current one and the old ones, which still open
    digest_key: bytes


def keyring():
    """The keys from the settings: `XUEFA_SM4_KEY` (`id:key`), `XUEFA_SM4_OLD_KEYS`
    (the same, comma-separated) and `XUEFA_SM3_DIGEST_KEY`; a key is 32 hex digits or
    base64."""
    return _keyring(
        getattr(settings, "XUEFA_SM4_KEY", ""),
        tuple(getattr(settings, "XUEFA_SM4_OLD_KEYS", ())),
        getattr(settings, "XUEFA_SM3_DIGEST_KEY", ""),
    )


@functools.lru_cache(maxsize=8)
def _keyring(current, old, digest_key):
    if not current:
        raise ImproperlyConfigured("XUEFA_SM4_KEY is not set (id:key, e.g. k1:<32 hex digits>).")
    current_id, current_key = _parse_key(current, "XUEFA_SM4_KEY")
    keys = {}
    for entry in old:
        key_id, key = _parse_key(entry, "XUEFA_SM4_OLD_KEYS")
        keys[key_id] = key
    keys[current_id] = current_key
    if not digest_key:
        raise ImproperlyConfigured("XUEFA_SM3_DIGEST_KEY is not set.")
    digest = _decode_key(digest_key, "XUEFA_SM3_DIGEST_KEY")
    if len(digest) < MIN_DIGEST_KEY_BYTES:
        raise ImproperlyConfigured(
            f"XUEFA_SM3_DIGEST_KEY must hold at least {MIN_DIGEST_KEY_BYTES} bytes."
        )
    return KeyRing(current_id, keys, digest)


def _parse_key(entry, name):
    key_id, separator, material = entry.strip().partition(":")
    if not separator or not KEY_ID.fullmatch(key_id):
        raise ImproperlyConfigured(
            f"{name} must read id:key, the id 1 to 16 letters, digits, '-' or '_'."
        )
    key = _decode_key(material, name)
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name}: an SM4 key is {KEY_BYTES} bytes (32 hex digits).")
    return key_id, key


def _decode_key(text, name):
    text = text.strip()
    try:
        if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", text):
            return bytes.fromhex(text)
        text = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name}: the key is neither hex nor base64.") from None


def new_key():
    """32 hex digits for a new SM4 key or digest key."""
    return os.urandom(KEY_BYTES).hex()


# --- Sealing and digests -----------------------------------------------------------------


def is_sealed(value):
    return isinstance(value, str) and value.startswith(MARKER + ":")


def key_id(value):
    """The id of the key that sealed `value`, or None for a plain value."""
    return value.split(":", 2)[1] if is_sealed(value) else None


def seal(text, context):
    """`text` sealed with the current key. `context` (the column) is authenticated with
    it, so a sealed value moved to another column does not open."""
    ring = keyring()
    blob = _seal(ring.keys[ring.current], text.encode(), _aad(context, ring.current))
    return f"{MARKER}:{ring.current}:{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


def unseal(value, context):
    """The text in a sealed value, with whichever configured key sealed it."""
    _marker, value_key_id, encoded = [*value.split(":", 2), "", ""][:3]
    key = keyring().keys.get(value_key_id)
    if key is None:
        raise UnknownKey(
            f"A value of {context} was sealed with SM4 key {value_key_id!r}, which is neither "
            "XUEFA_SM4_KEY nor in XUEFA_SM4_OLD_KEYS."
        )
    try:
        blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return _open(key, blob, _aad(context, value_key_id)).decode()
    except (InvalidTag, ValueError, binascii.Error):
        raise TamperedValue(f"A sealed value of {context} does not authenticate.") from None


def digest(text, context):
    """The keyed SM3 digest (HMAC-SM3, hex) that finds a sealed value by exact match."""
    return _hmac(keyring().digest_key, f"{context}\x00{text}".encode()).hex()


def sealed_length(max_chars):
    """The longest sealed value of a text of up to `max_chars` characters."""
    blob = NONCE_BYTES + 4 * max_chars + TAG_BYTES  # UTF-8: up to 4 bytes a character
    return len(MARKER) + 1 + 16 + 1 + -(-blob * 4 // 3)


def _aad(context, key_id):
    return f"{context}:{key_id}".encode()


def _seal(key, data, aad):
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return nonce + encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(key, blob, aad):
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise ValueError("too short")
    nonce, body, tag = blob[:NONCE_BYTES], blob[NONCE_BYTES:-TAG_BYTES], blob[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def _hmac(key, data):
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


# --- Refusing to start half-configured -----------------------------------------------------


@checks.register(checks.Tags.security)
def check_sm_crypto(app_configs, **kwargs):
    """With the switch on, the algorithms and keys must be there: `manage.py check` (and
    every `runserver`, `migrate`) fails rather than a sign-in or a save later."""
    if not enabled():
        return []
    errors = []
    if not sm3_available():
        errors.append(
            checks.Error(
                "XUEFA_SM_CRYPTO is on but Python's OpenSSL has no SM3 (hashlib.new('sm3')).",
                hint="Use a Python linked against OpenSSL 1.1.1 or later built with SM3.",
                id="learning.E001",
            )
        )
    if not sm4_available():
        errors.append(
            checks.Error(
                "XUEFA_SM_CRYPTO is on but the cryptography package's OpenSSL has no "
                "SM4-GCM or HMAC-SM3.",
                hint="Install the cryptography wheel (it bundles OpenSSL 3 with SM4).",
                id="learning.E002",
            )
        )
    try:
        keyring()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="learning.E003"))
    return errors
