"""Signed, expiring sign-in tokens (itsdangerous) and the secret that signs them.

The secret comes from the settings (`TUTOR_AUTH_SECRET`) or is generated once into `<data dir>/auth_secret`
(mode 0600); it is never logged or committed. A token carries only a random session id; the session row in the
database decides whether it is still live, so signing out or disabling an account ends it at once.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

SECRET_FILE = "auth_secret"
_SALT = "mastery-tutor-session"


def load_secret(configured: str | None, data_dir: Path) -> str:
    """The configured secret, or the one in the data folder (created with a fresh random value if absent)."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    if path.is_symlink():
        raise RuntimeError(f"{path} is a symbolic link; remove it so the tutor can create its own secret there")
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Signer:
    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.max_age = max_age_seconds

    def sign(self, session_id: str) -> str:
        return self._serializer.dumps(session_id)

    def session_id(self, token: str) -> str | None:
        """The session id in a token signed by us and younger than max_age; None for anything else."""
        try:
            value = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        return value if isinstance(value, str) else None
