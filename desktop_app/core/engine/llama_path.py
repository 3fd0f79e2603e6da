"""A name llama.cpp can open a model file by, when the file's own name is not UTF-8.

llama-cpp-python encodes the path it is given as UTF-8, strictly: a file whose name holds other bytes
(``Mod\\xe8le.gguf`` from a Latin-1 system, which Python names ``'Mod\\udce8le.gguf'``) cannot be opened by
its name. :func:`openable_name` gives such a file a second name for the time it is being opened: a
symbolic link in a private temporary folder, named with U+FFFD where the bytes were. llama.cpp maps the
file while it loads it; the link is removed afterwards (the mapping stays). The parts of a split model
are linked beside it under the names llama.cpp looks for.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from desktop_app.core.safe_text import is_utf8, shown

_SPLIT_PART = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)


@contextlib.contextmanager
def openable_name(path: str | os.PathLike[str]) -> Iterator[str]:
    """PATH as text llama.cpp can open: PATH itself when it is UTF-8, else a link to it (while inside)."""
    text = os.fspath(path)
    if is_utf8(text):
        yield text
        return
    source = Path(os.path.abspath(text))
    with tempfile.TemporaryDirectory(prefix="tokendice-model-") as folder:
        links = [source]
        m = _SPLIT_PART.match(source.name)
        if m is not None:  # llama.cpp opens the other parts by names made from the first one's
            total = int(m["total"])
            ext = source.name[-5:]
            links = [
                source.with_name(f"{m['stem']}-{i:05d}-of-{total:05d}{ext}") for i in range(1, total + 1)
            ]
        for target in links:
            os.symlink(target, Path(folder) / shown(target.name))
        yield str(Path(folder) / shown(source.name))
