"""How the secrets we hand out (API tokens, session cookies) are stored: as their SHA-256."""

from __future__ import annotations

import hashlib


def hash_token(token: str) -> str:
    """Our secrets are long random strings, so a fast hash is enough (no dictionary to guess
    from); the database then holds nothing that works as a credential."""
    return hashlib.sha256(token.encode()).hexdigest()
