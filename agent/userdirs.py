"""The user's own folders (Desktop, Documents, Downloads...), as the desktop names them.

`platformdirs` reads them: on Linux from `$XDG_CONFIG_HOME/user-dirs.dirs` (`XDG_DOWNLOAD_DIR="$HOME/Downloads"`,
localised names such as `$HOME/Dokumente` included; a file others may write is ignored), else `~/Downloads`...;
on macOS and Windows the system's known folders. `HOME` in the environment is the home folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

__all__ = ["USER_FOLDERS", "user_folder"]

_READERS: dict[str, Callable[[], str]] = {
    "desktop": platformdirs.user_desktop_dir,
    "documents": platformdirs.user_documents_dir,
    "downloads": platformdirs.user_downloads_dir,
    "music": platformdirs.user_music_dir,
    "pictures": platformdirs.user_pictures_dir,
    "videos": platformdirs.user_videos_dir,
    "templates": platformdirs.user_templates_dir,
    "public": platformdirs.user_publicshare_dir,
}
USER_FOLDERS = frozenset(_READERS)


def user_folder(name: str) -> Path:
    """The user's folder `name` (one of `USER_FOLDERS`), whether it exists or not."""
    return Path(_READERS[name]())
