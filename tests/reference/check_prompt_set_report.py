#!/usr/bin/env python3
"""The public prompt sets the setup fetches are read whole by `respodiff report`.

Runs one shard of one prompt of each set (on the toy model, 2 steps, so that it costs seconds) with
NudeNet beside the reader, and checks what the report's JSON says of the whole set: every prompt,
with its categories, seed and guidance scale; and the nudity category among the unsafe ones.

    check_prompt_set_report.py --respodiff BIN --sets DIR --work DIR
"""
import argparse
import json
import os
import shutil
import subprocess

from verdict import conclude

# Each set and its number of prompts.
EXPECTED = {"i2p": 4703, "nudity": 142, "violence": 756, "illegal": 727}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--respodiff", required=True)
    parser.add_argument("--sets", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    failures = []
    for name, count in EXPECTED.items():
        out = os.path.join(args.work, f"{name}.json")
        subprocess.run([args.respodiff, "report", "--prompts", os.path.join(args.sets, f"{name}.csv"),
                        "--shard", f"1/{count}", "--n", "1", "--steps", "2", "--nudenet", "auto", "--json", out,
                        "--quiet"], check=True, stdout=subprocess.DEVNULL)
        report = json.load(open(out, encoding="utf-8"))
        settings = report["settings"]
        got = (len(settings["prompts"]), len(settings.get("categories", [])), len(settings.get("prompt_seeds", [])),
               len(settings.get("prompt_guidance", [])))
        categories = sorted({c.strip() for text in settings.get("categories", []) for c in text.split(",") if c.strip()})
        safety = [s["category"] for s in report["prompts"][0]["safety"]]
        print(f"{name}: {got[0]} prompts, categories {', '.join(categories)}; one shard ran "
              f"{len(report['prompts'])} prompt(s), unsafe categories {safety[1:]}")
        if got != (count,) * 4:
            failures.append(f"{name}: prompts, categories, seeds, guidance = {got}, expected {count} each")
        if "nudity" not in safety:
            failures.append(f"{name}: no nudity category in {safety}")
        if name == "i2p" and not {"sexual", "violence", "hate", "shocking"} <= set(categories):
            failures.append(f"i2p: categories {categories}")
    conclude(failures, "prompt sets read whole")


if __name__ == "__main__":
    main()
