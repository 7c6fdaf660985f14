"""What one password check costs with each hasher the site knows, in CPU ms (median of
`--repeat` verifications, one process, one core), and what a morning of sign-ins costs
at that price. The default, Argon2id at OWASP's setting, should stay near 50 ms.

    .venv/bin/python bench/password_hash.py [--repeat 15] [--officials 3000]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuefa.settings.dev")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import (  # noqa: E402
    Argon2PasswordHasher,
    PBKDF2PasswordHasher,
)

from learning import crypto  # noqa: E402
from learning.hashers import (  # noqa: E402
    Argon2idPasswordHasher,
    InitialPasswordHasher,
    PBKDF2SM3PasswordHasher,
)

PASSWORD = "Xuefa-bench-2026"  # noqa: S105 - hashed and checked, nothing more


def cpu_ms(hasher, repeat):
    encoded = hasher.encode(PASSWORD, hasher.salt())
    costs = []
    for _ in range(repeat):
        start = time.process_time()
        assert hasher.verify(PASSWORD, encoded)
        costs.append((time.process_time() - start) * 1000)
    return statistics.median(costs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--officials", type=int, default=3000)
    args = parser.parse_args()
    hashers = [
        ("Argon2id, OWASP 19 MiB × 2 × 1 (default)", Argon2idPasswordHasher()),
        ("Argon2id, Django's 100 MiB × 2 × 8", Argon2PasswordHasher()),
        (f"PBKDF2-SHA256 × {PBKDF2PasswordHasher.iterations:,}", PBKDF2PasswordHasher()),
        ("initial passwords, PBKDF2-SHA256 × 1,000", InitialPasswordHasher()),
    ]
    if crypto.sm3_available():
        hashers.append(("PBKDF2-SM3 × 80,000 (XUEFA_SM_CRYPTO)", PBKDF2SM3PasswordHasher()))
    print(f"{'hasher':<44} {'CPU ms':>8} {args.officials:,} sign-ins, core-minutes")
    for name, hasher in hashers:
        ms = cpu_ms(hasher, args.repeat)
        print(f"{name:<44} {ms:8.1f} {ms * args.officials / 60000:10.1f}")


if __name__ == "__main__":
    main()
