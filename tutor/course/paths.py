"""Paths confined to a folder: every path is resolved, and one that leads outside the folder it was given in
(a symbolic link to `/etc/passwd`, a linked folder elsewhere, `..`) is refused with a message naming it.

Course folders, source folders given to `tutor content add`, and the Content page all go through `inside`.
"""

from __future__ import annotations

from pathlib import Path

FIX = "copy the file into the folder instead of linking to it"


class OutsideFolderError(ValueError):
    """A path that leads outside the folder it must stay in; the message names it and says what to do."""

    def __init__(self, path: Path, target: Path | None, root: Path) -> None:
        self.path = path
        self.target = target
        if target is None:
            self.reason = "is a link that cannot be followed (a loop?)"
        elif path.is_symlink() or any(parent.is_symlink() for parent in path.parents):
            self.reason = f"is a link to {target}, outside {root}"
        else:
            self.reason = f"is outside {root}"
        super().__init__(f"{path} {self.reason}; {FIX}")


def inside(path: Path, root: Path) -> Path:
    """`path` with every link resolved; OutsideFolderError when it leads outside `root` (itself resolved)."""
    real_root = root.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a link loop: RuntimeError up to Python 3.12, OSError from 3.13
        raise OutsideFolderError(path, None, root) from None
    if not real.is_relative_to(real_root):
        raise OutsideFolderError(path, real, root)
    return real
