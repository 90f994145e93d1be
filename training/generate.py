"""Writes the training and held-out data of the shipped models into training/generated/.

Deterministic: the same seed gives byte-identical files. Needs only the Python standard
library, and scripts/fetch-training-data for the jailbreak corpora.

Usage: python3 training/generate.py [domain|jailbreak|pii ...] [--seed N]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import domain  # noqa: E402
import jailbreak  # noqa: E402
import pii  # noqa: E402

OUT = os.path.join(HERE, "generated")
FETCHED = os.path.join(HERE, "fetched")


def write(name, rows):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{path}: {len(rows)} rows")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=["domain", "jailbreak", "pii"])
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if "domain" in args.sets:
        train, held = domain.generate(args.seed, per_label=700, heldout_per_label=60)
        write("domain-train.jsonl", train)
        write("domain-heldout.jsonl", held)
    if "jailbreak" in args.sets:
        questions = [row["text"] for row in domain.generate(args.seed + 1, per_label=60, heldout_per_label=0)[0]]
        train, held, mini = jailbreak.generate(args.seed, FETCHED, questions, attacks=1500, benigns=1800)
        write("jailbreak-train.jsonl", train)
        write("jailbreak-bastion-heldout.jsonl", held)
        write("jailbreak-corpus-mini.jsonl", mini)
    if "pii" in args.sets:
        train, held = pii.generate(args.seed, train_size=18000, heldout_size=2000)
        write("pii-train.jsonl", train)
        write("pii-heldout.jsonl", held)


if __name__ == "__main__":
    main()
