"""How handlers ask for what the app provides once (`Provide` in `create_app`).

Litestar validates each dependency's value against its annotation on every request. The
settings are made and checked once at start, and msgspec cannot even describe some of their
types (a union of the two `ipaddress` network classes makes every such request a 500), so
handlers take them unvalidated.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from service.settings import Settings

AppSettings = NamedDependency[SkipValidation[Settings]]
