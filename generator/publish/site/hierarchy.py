"""The WordNet hierarchy of the atlas's classes, collapsed for browsing: the gallery's tree, a class page's
breadcrumbs and its neighbours."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

NEIGHBOURS = 8


@dataclass
class Node:
    id: int
    parent: int  # -1 for the root
    chain: list  # raw WordNet names merged into this node (single-child levels collapsed); shown: the last
    key: str  # URL key: every raw name from the root, "/"-joined and percent-encoded
    children: list = field(default_factory=list)
    classes: list = field(default_factory=list)  # class indices whose parent is this node
    subtree: list = field(default_factory=list)  # every class index below, sorted

    @property
    def name(self) -> str:
        return self.chain[-1] if self.chain else "All classes"


def build_tree(classes: list[dict]) -> tuple[list[Node], dict[int, int]]:
    """Nodes from the classes' WordNet paths (leaf = the class itself), merging levels with a single child
    and no class of their own ("chordate > vertebrate" becomes one step). Returns (nodes, class -> node)."""
    raw_children: dict[tuple, dict] = {(): {}}
    raw_classes: dict[tuple, list] = {}
    for c in classes:
        path = tuple(c["path"][:-1]) or (c["label"],)
        for i in range(len(path)):
            raw_children.setdefault(path[:i], {}).setdefault(path[: i + 1], None)
            raw_children.setdefault(path[: i + 1], {})
        raw_classes.setdefault(path, []).append(c["index"])

    nodes = [Node(0, -1, [], "")]
    where: dict[int, int] = {}

    def visit(raw: tuple, node: Node) -> None:
        for idx in raw_classes.get(raw, []):
            where[idx] = node.id
            node.classes.append(idx)
        for child in raw_children[raw]:
            chain = [child[-1]]
            while len(raw_children[child]) == 1 and not raw_classes.get(child):
                child = next(iter(raw_children[child]))
                chain.append(child[-1])
            key = "/".join(quote(s, safe="") for s in child)
            sub = Node(len(nodes), node.id, chain, key)
            nodes.append(sub)
            node.children.append(sub.id)
            visit(child, sub)

    visit((), nodes[0])
    for n in reversed(nodes):  # children come after parents
        n.subtree = sorted(n.classes + [i for ch in n.children for i in nodes[ch].subtree])
    for n in nodes:
        n.children.sort(key=lambda ch: (-len(nodes[ch].subtree), nodes[ch].name.casefold()))
    return nodes, where


def ancestors(nodes: list[Node], node_id: int) -> list[Node]:
    out = []
    while node_id > 0:
        out.append(nodes[node_id])
        node_id = nodes[node_id].parent
    return out[::-1]


def neighbours(nodes: list[Node], node_id: int, index: int, want: int = NEIGHBOURS) -> tuple[Node, list[int]]:
    """The nearest hierarchy node with a few other classes, and up to `want` of them closest by index."""
    node = nodes[node_id]
    while len(node.subtree) <= min(want, 4) and node.parent >= 0:
        node = nodes[node.parent]
    others = sorted((i for i in node.subtree if i != index), key=lambda i: (abs(i - index), i))[:want]
    return node, sorted(others)

