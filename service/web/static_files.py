"""The static folder as Litestar serves it, but a name the OS cannot look up is just not there.

A file name over the system's limit (ENAMETOOLONG) or with a NUL byte makes `stat` raise
something other than FileNotFoundError, which Litestar answers with a 500; it is a 404.
"""

from __future__ import annotations

from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import PathType
from litestar.types.file_types import FileInfo


class StaticFolder(BaseLocalFileSystem):
    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except (FileNotFoundError, PermissionError):
            raise
        except (OSError, ValueError):
            raise FileNotFoundError(str(path)) from None
