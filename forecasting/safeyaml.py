"""Reading YAML files that may be hostile: size, file type, nesting, aliases, big numbers.

Question, decision and news files are reviewed in git, but a workspace may be shared and a
file may come from anyone.  Before PyYAML builds anything, :func:`load_yaml` walks the event
stream (which needs no recursion) and refuses:

* nesting deeper than :data:`MAX_DEPTH` (PyYAML's composer recurses once per level);
* alias expansion beyond :data:`MAX_NODES` nodes (the "billion laughs" bomb) and an alias
  that refers to the node it sits in (a self-referencing structure);
* integers with more than :data:`MAX_INT_DIGITS` digits (Python refuses to parse them);
* duplicate keys in a mapping (YAML would keep the last one silently).

:func:`read_text` reads only regular files, at most :data:`MAX_BYTES`, without blocking on a
FIFO or a device.  Both raise :class:`YAMLRefused` with a line number and a plain message.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "Loader",
    "YAMLRefused",
    "load_yaml",
    "malformed_message",
    "read_text",
]

MAX_BYTES = 1_000_000
MAX_DEPTH = 40
MAX_NODES = 100_000
MAX_INT_DIGITS = 50

_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)")


class YAMLRefused(ValueError):
    """A file or text that is refused before (or while) parsing it; ``line`` is 1-based."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


class Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: let PyYAML report it
                continue
            line = key_node.start_mark.line + 1
            if first is not None:
                raise YAMLRefused(
                    f"duplicate key {str(key)[:40]!r} (first at line {first}); each key once",
                    line,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes``; never blocks on a FIFO."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise YAMLRefused(f"cannot be read: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise YAMLRefused("is not a regular file (a device, FIFO or socket); refused")
        if st.st_size > max_bytes:
            raise YAMLRefused(
                f"is {st.st_size:,} bytes; files over {max_bytes:,} bytes are refused"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise YAMLRefused(f"is over {max_bytes:,} bytes; refused")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLRefused(f"is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _check_events(text: str, max_depth: int, max_nodes: int) -> None:
    """Walk the event stream once: depth, expanded size, self-reference and big integers."""
    depth = 0
    # per open collection: [size so far, anchor or None]
    stack: list[list[Any]] = [[0, None]]
    sizes: dict[str, int] = {}
    open_anchors: set[str] = set()
    total = 0
    for ev in yaml.parse(text, Loader=Loader):
        line = ev.start_mark.line + 1 if ev.start_mark else 1
        if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > max_depth:
                raise YAMLRefused(f"nesting is deeper than {max_depth} levels; refused", line)
            stack.append([1, ev.anchor])
            if ev.anchor:
                open_anchors.add(ev.anchor)
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            size, anchor = stack.pop()
            if anchor:
                sizes[anchor] = size
                open_anchors.discard(anchor)
            stack[-1][0] += size
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.anchor:
                sizes[ev.anchor] = 1
            if (
                ev.style is None
                and len(ev.value) > MAX_INT_DIGITS
                and _INT.fullmatch(ev.value.replace("_", ""))
            ):
                raise YAMLRefused(
                    f"a number with {len(ev.value)} digits; numbers over {MAX_INT_DIGITS} "
                    "digits are refused",
                    line,
                )
            stack[-1][0] += 1
        elif isinstance(ev, yaml.AliasEvent):
            if ev.anchor in open_anchors:
                raise YAMLRefused(
                    f"alias *{ev.anchor} refers to the structure it sits in; refused", line
                )
            stack[-1][0] += sizes.get(ev.anchor or "", 1)
        total = stack[0][0] + sum(s[0] for s in stack[1:])
        if total > max_nodes:
            raise YAMLRefused(
                f"expands to more than {max_nodes:,} values (aliases repeated too often); refused",
                line,
            )


def load_yaml(
    text: str, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES
) -> tuple[Any, yaml.Node | None]:
    """``(data, root node)`` of a YAML text, after the checks above (node gives line numbers).

    Raises :class:`YAMLRefused` for refused input and :class:`yaml.YAMLError` for malformed
    YAML.
    """
    _check_events(text, max_depth, max_nodes)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    return data, node


def malformed_message(exc: yaml.YAMLError) -> tuple[int, str]:
    """``(line, message)`` for a PyYAML error, with a hint for the commonest mistake."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else 1
    problem = str(getattr(exc, "problem", None) or exc).strip()
    msg = f"malformed YAML: {problem}"
    if "mapping values are not allowed" in problem:
        msg += " (a value containing ': ' must be quoted: put the title or text in quotes)"
    return line, msg
