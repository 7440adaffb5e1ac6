"""Writing output files safely: atomically, with the user's umask, never over what matters.

Reports, exports and charts are written to a temporary file in the target folder and renamed
over the target, so a reader never sees half a file and a crash leaves the old file intact.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError

__all__ = ["check_output_path", "write_atomic"]


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_output_path(
    path: str | Path, *, force: bool = False, protected: Iterable[Path] = ()
) -> Path:
    """Where ``path`` really writes (through a symlink), after refusing what must not be
    replaced: an existing file without ``force``, anything but a regular file, a missing
    folder, and the ``protected`` files (the journal, the workspace config) even with
    ``force``."""
    p = Path(path)
    target = p.resolve() if p.is_symlink() else p.absolute()
    for prot in protected:
        try:
            if target == Path(prot).resolve() or (target.exists() and target.samefile(prot)):
                raise ConfigError(
                    f"output: {str(path)!r} is the workspace's {Path(prot).name}; it is never "
                    "overwritten, even with --force: choose another file"
                )
        except OSError:
            continue
    if not target.parent.is_dir():
        raise ConfigError(f"output: folder {str(target.parent)!r} does not exist; create it first")
    if target.exists() or p.is_symlink():
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            raise ConfigError(f"output: {str(path)!r} is not a regular file; refused")
        if not force:
            raise ConfigError(f"output: {str(path)!r} already exists; pass --force to replace it")
    return target


def write_atomic(
    path: str | Path,
    write: Callable[[IO[str]], object] | str | bytes,
    *,
    force: bool = True,
    protected: Iterable[Path] = (),
    newline: str | None = None,
) -> Path:
    """Write ``path`` atomically (a temporary file, then a rename) with the umask's mode.

    ``write`` is the text or bytes to write, or a function that writes to the open file.
    """
    target = check_output_path(path, force=force, protected=protected)
    binary = isinstance(write, bytes)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        fh: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline=newline)
        )
        with fh:
            if isinstance(write, (str, bytes)):
                fh.write(write)
            else:
                write(fh)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
