#!/usr/bin/env python3
"""Build generator/data/imagenet_classes.json (ImageNet-1k class metadata).

Standard library only. Inputs (all local files, nothing is downloaded):

  --synsets   timm/data/_info/imagenet_synsets.txt        (1000 wnids, sorted = ILSVRC index order)
  --lemmas    timm/data/_info/imagenet_synset_to_lemma.txt (wnid<TAB>"lemma, lemma, ...")
  --data-noun WordNet 3.0 data.noun (Debian package wordnet-base: /usr/share/wordnet/data.noun)
  --labels    torchvision category names, one per line in index order. If omitted,
              they are read from torchvision (ResNet18_Weights.IMAGENET1K_V1.meta["categories"]),
              which must then be importable.

ILSVRC wnids are WordNet 3.0 noun offsets ("n01514859" -> offset 01514859 in data.noun).
Each class's "path" is its chain of hypernyms: at every step the *first* '@' (hypernym)
pointer listed in data.noun is followed ('@i' instance hypernym if there is no '@'), up to
the root "entity". Generic top levels (entity, physical entity, object, whole, living thing,
organism, artifact, ...; see GENERIC_ROOTS) are then cut from the top, always keeping at least
two levels. Each level is named by its synset's first lemma (underscores -> spaces); the last
level is the torchvision label.

With --collapse, intermediate levels that have exactly one child within the 1000-class tree
(e.g. "chordate" directly above "vertebrate") are dropped as well. Off by default.

Example:
  python scripts/build_class_data.py --synsets .../imagenet_synsets.txt \
      --lemmas .../imagenet_synset_to_lemma.txt --data-noun /usr/share/wordnet/data.noun \
      --labels labels.txt -o generator/data/imagenet_classes.json
"""
from __future__ import annotations

import argparse
import collections
import json
import sys

# Synsets (by first lemma) that are too generic to head a path; cut from the top of each chain.
GENERIC_ROOTS = {
    "entity", "physical_entity", "abstraction", "object", "whole", "living_thing",
    "organism", "artifact", "matter", "part", "communication", "attribute", "solid",
    "substance", "natural_object", "location", "relation", "psychological_feature",
    "causal_agent", "thing", "group", "measure",
}


def read_data_noun(path):
    """offset -> (lemmas, hypernym offsets, instance-hypernym offsets)."""
    synsets = {}
    with open(path, encoding="latin-1") as fh:
        for line in fh:
            if line.startswith("  "):  # licence header
                continue
            f = line.split(" ")
            offset, w_cnt = f[0], int(f[3], 16)
            lemmas = [f[4 + 2 * i] for i in range(w_cnt)]
            i = 4 + 2 * w_cnt
            p_cnt = int(f[i])
            i += 1
            hyp, ihyp = [], []
            for _ in range(p_cnt):
                sym, target, pos = f[i], f[i + 1], f[i + 2]
                i += 4
                if pos == "n" and sym == "@":
                    hyp.append(target)
                elif pos == "n" and sym == "@i":
                    ihyp.append(target)
            synsets[offset] = (lemmas, hyp, ihyp)
    return synsets


def hypernym_chain(synsets, offset):
    """Root-first list of offsets, following the first hypernym at each step."""
    chain = [offset]
    seen = {offset}
    while True:
        _, hyp, ihyp = synsets[chain[-1]]
        up = hyp or ihyp
        if not up or up[0] in seen:
            break
        chain.append(up[0])
        seen.add(up[0])
    return chain[::-1]


def lemma_name(lemma):
    return lemma.replace("_", " ")


def read_labels(path):
    if path:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if text.lstrip().startswith("["):
            return json.loads(text)
        return [ln.rstrip("\r\n") for ln in text.splitlines() if ln.strip()]
    from torchvision.models import ResNet18_Weights  # optional, only without --labels

    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def build(synsets_path, lemmas_path, data_noun_path, labels_path, collapse=False):
    with open(synsets_path, encoding="utf-8") as fh:
        wnids = [ln.strip() for ln in fh if ln.strip()]
    if len(wnids) != 1000 or wnids != sorted(wnids) or len(set(wnids)) != 1000:
        sys.exit("expected 1000 unique, sorted wnids in %s" % synsets_path)

    lemma_map = {}
    with open(lemmas_path, encoding="utf-8") as fh:
        for ln in fh:
            ln = ln.rstrip("\r\n")
            if "\t" in ln:
                wnid, names = ln.split("\t", 1)
                lemma_map[wnid] = [n.strip() for n in names.split(",") if n.strip()]

    labels = read_labels(labels_path)
    if len(labels) != 1000:
        sys.exit("expected 1000 labels, got %d" % len(labels))

    synsets = read_data_noun(data_noun_path)

    chains = []
    for wnid in wnids:
        off = wnid[1:]
        if off not in synsets:
            sys.exit("%s not found in data.noun" % wnid)
        chain = hypernym_chain(synsets, off)
        while len(chain) > 2 and synsets[chain[0]][0][0] in GENERIC_ROOTS:
            chain = chain[1:]
        chains.append(chain)

    if collapse:
        children = collections.defaultdict(set)
        for chain in chains:
            for a, b in zip(chain, chain[1:]):
                children[a].add(b)
        leaves = {chain[-1] for chain in chains}
        chains = [
            [c[0]] + [o for o in c[1:-1] if len(children[o]) > 1 or o in leaves] + [c[-1]]
            for c in chains
        ]

    classes = []
    for index, (wnid, label, chain) in enumerate(zip(wnids, labels, chains)):
        wn_lemmas = [lemma_name(x) for x in synsets[wnid[1:]][0]]
        synonyms = lemma_map.get(wnid) or wn_lemmas
        if [s.lower() for s in synonyms] != [s.lower() for s in wn_lemmas]:
            print("note: %s lemma list differs from data.noun: %r vs %r"
                  % (wnid, synonyms, wn_lemmas), file=sys.stderr)
        path = [lemma_name(synsets[o][0][0]) for o in chain[:-1]] + [label]
        classes.append({"index": index, "wnid": wnid, "label": label,
                        "synonyms": synonyms, "path": path})
    return classes


def dump(classes, source, out):
    lines = ['{"source": %s,' % json.dumps(source, ensure_ascii=False), ' "classes": [']
    body = [json.dumps(c, ensure_ascii=False) for c in classes]
    lines.append(",\n".join(body))
    lines.append("]}")
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--synsets", required=True)
    ap.add_argument("--lemmas", required=True)
    ap.add_argument("--data-noun", required=True)
    ap.add_argument("--labels", help="torchvision labels, one per line (or a JSON list)")
    ap.add_argument("--collapse", action="store_true",
                    help="drop single-child intermediate levels from paths")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)

    classes = build(args.synsets, args.lemmas, args.data_noun, args.labels, args.collapse)
    source = ("ImageNet-1k (ILSVRC-2012) classes in index order: wnids and lemmas from timm "
              "imagenet_synsets.txt / imagenet_synset_to_lemma.txt; labels = torchvision "
              "IMAGENET1K_V1 categories; paths = first-hypernym chains from WordNet 3.0 "
              "data.noun (Debian wordnet-base), generic top levels removed%s. "
              "Built by scripts/build_class_data.py."
              % (", single-child levels collapsed" if args.collapse else ""))
    dump(classes, source, args.output)
    heads = collections.Counter(c["path"][0] for c in classes)
    print("wrote %d classes to %s; path heads: %s"
          % (len(classes), args.output, dict(heads.most_common())), file=sys.stderr)


if __name__ == "__main__":
    main()
