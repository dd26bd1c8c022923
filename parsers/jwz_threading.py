"""Jamie Zawinski's threading algorithm, for importing old mailboxes.

Live mail is threaded by reply tokens and Message-IDs against the database;
an imported mbox has none of that, only References, In-Reply-To and
subjects.  This module builds conversation trees from those alone, following
https://www.jwz.org/doc/threading.html: link by references, prune empty
containers, then group roots by base subject.

Pure: reference cycles and duplicate Message-IDs terminate and
never raise.  Roots and children are ordered by arrival; an empty (dummy)
container takes the place of its earliest descendant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.subjects import base_subject


@dataclass(frozen=True)
class Threadable:
    """What threading needs from one message; `index` is its arrival order."""

    index: int
    message_id: str
    subject: str
    references: tuple[str, ...] = ()


@dataclass(eq=False)
class Container:
    """A node of the thread tree: a message, or a placeholder for a missing one."""

    message: Threadable | None = None
    parent: Container | None = field(default=None, repr=False)
    children: list[Container] = field(default_factory=list)

    def order(self) -> int:
        """Arrival position: the message's own, or that of the earliest descendant."""
        if self.message is not None:
            return self.message.index
        return min((child.order() for child in self.children), default=1 << 62)

    def subject(self) -> str:
        """The message's subject, or the earliest child's for a placeholder."""
        if self.message is not None:
            return self.message.subject
        first = min(self.children, key=Container.order, default=None)
        return first.subject() if first is not None else ""


def thread(messages: list[Threadable]) -> list[Container]:
    """The root containers of `messages`, each with its sorted subtree."""
    table: dict[str, Container] = {}
    for message in messages:
        container = _container_for(table, message)
        parent: Container | None = None
        for reference in dict.fromkeys(message.references):
            node = table.setdefault(reference, Container())
            if parent is not None and node.parent is None and node is not parent and not _reaches(node, parent):
                _adopt(parent, node)
            parent = node
        if container.parent is not None:
            _detach(container)
        if parent is not None and parent is not container and not _reaches(container, parent):
            _adopt(parent, container)
    roots = [c for c in dict.fromkeys(table.values()) if c.parent is None]
    roots = _prune(roots)
    roots = _group_by_subject(roots)
    _sort(roots)
    return roots


def _container_for(table: dict[str, Container], message: Threadable) -> Container:
    """The container for a message; a duplicate Message-ID gets a container of its own."""
    container = table.get(message.message_id)
    if container is None or container.message is not None:
        key = message.message_id
        while key in table and table[key].message is not None:
            key += "\x00dup"
        container = table.setdefault(key, Container())
    container.message = message
    return container


def _reaches(ancestor: Container, node: Container) -> bool:
    """True when `ancestor` is `node` or above it (linking would make a cycle)."""
    if not ancestor.children:
        return ancestor is node  # a leaf is nobody's ancestor: no walk up the chain
    current: Container | None = node
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


def _adopt(parent: Container, child: Container) -> None:
    if child.parent is not None:
        _detach(child)
    child.parent = parent
    parent.children.append(child)


def _detach(child: Container) -> None:
    if child.parent is not None:
        child.parent.children.remove(child)
        child.parent = None


def _prune(roots: list[Container]) -> list[Container]:
    """Drop empty leaves; replace an empty container by its children.

    At the root an empty container is kept when it has several children
    (they share a missing ancestor and belong together).  Bottom-up without
    recursion: an imported mailbox may hold reply chains thousands deep.
    """
    visited: list[Container] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        visited.append(node)
        stack.extend(node.children)
    for node in reversed(visited):  # every node after all of its descendants
        node.children = _pruned_level(node.children, at_root=False)
        for child in node.children:
            child.parent = node
    pruned = _pruned_level(roots, at_root=True)
    for root in pruned:
        root.parent = None
    return pruned


def _pruned_level(containers: list[Container], at_root: bool) -> list[Container]:
    """One level of pruning; the containers' own children are already pruned."""
    result: list[Container] = []
    for container in containers:
        if container.message is None and not container.children:
            continue
        if container.message is None and (not at_root or len(container.children) == 1):
            result.extend(container.children)
            continue
        result.append(container)
    return result


def _group_by_subject(roots: list[Container]) -> list[Container]:
    """JWZ step 5: roots with the same base subject become one thread."""
    by_subject: dict[str, Container] = {}
    for root in roots:
        subject, depth = base_subject(root.subject())
        if not subject:
            continue
        current = by_subject.get(subject)
        if current is None or _better_anchor(root, depth, current):
            by_subject[subject] = root
    result: list[Container] = []
    for root in roots:
        subject, depth = base_subject(root.subject())
        anchor = by_subject.get(subject) if subject else None
        if anchor is None or anchor is root:
            if root not in result:
                result.append(root)
            continue
        merged = _merge(anchor, root, depth)
        if merged is not anchor:
            result = [merged if r is anchor else r for r in result]
            by_subject[subject] = merged
    return result


def _better_anchor(root: Container, depth: int, current: Container) -> bool:
    """A real message beats a placeholder; an original beats a reply."""
    if current.message is None and root.message is not None:
        return False
    if root.message is None and current.message is not None:
        return True
    return base_subject(current.subject())[1] > 0 and depth == 0


def _merge(anchor: Container, root: Container, depth: int) -> Container:
    """Put `root` into `anchor`'s thread; returns the thread's (possibly new) root."""
    anchor_is_reply = base_subject(anchor.subject())[1] > 0
    if anchor.message is None and root.message is None:
        for child in list(root.children):
            _adopt(anchor, child)
        return anchor
    if anchor.message is None:
        _adopt(anchor, root)
        return anchor
    if depth > 0 and not anchor_is_reply:
        _adopt(anchor, root)
        return anchor
    dummy = Container()
    _adopt(dummy, anchor)
    _adopt(dummy, root)
    return dummy


def _sort(containers: list[Container]) -> None:
    """Order every level by arrival, iteratively (trees can be deep)."""
    stack = [containers]
    while stack:
        level = stack.pop()
        level.sort(key=Container.order)
        stack.extend(node.children for node in level)


def render(roots: list[Container]) -> list[str]:
    """The tree as lines: subject (or "dummy"), 3 spaces of indent per level."""
    lines: list[str] = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        node, level = stack.pop()
        label = node.message.subject if node.message is not None else "dummy"
        lines.append(" " * (3 * level) + label)
        stack.extend((child, level + 1) for child in reversed(node.children))
    return lines
