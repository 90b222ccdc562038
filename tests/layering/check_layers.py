#!/usr/bin/env python3
"""Fails when an #include crosses a layer the wrong way (docs/architecture.md):

  core/    no Qt, nothing from gpu/, ui/ or app/
  core/common/  nothing from the rest of core/ (it is the bottom)
  gpu/     no Qt Widgets/Gui, nothing from ui/ or app/, nothing from core/toyworld/ (an extension)
  ui/      no LibTorch, directly or through the project headers it includes; nothing from app/
  app/     may use everything

Project headers are followed transitively, so a ui/ file that reaches <torch/torch.h> through a
gpu/ or core/ header fails too.
    check_layers.py [ROOT]          check the tree (default: the repository)
    check_layers.py --self-test     prove the check fails on a deliberately wrong include
"""
import re
import shutil
import sys
import tempfile
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
TORCH = ("torch/", "ATen/", "c10/", "caffe2/")
QT = re.compile(r"^Q[A-Za-z]+(/|$)|^Qt[A-Za-z]*/")
QT_GUI = re.compile(r"^Q(Widget|Application|Main|Push|Label|Tree|Image|Painter|Dialog|Menu|Action)|^QtWidgets/|^QtGui/")


def includes(path):
    return INCLUDE.findall(path.read_text(errors="replace"))


def layer(rel):
    parts = Path(rel).parts
    return parts[0] if parts else ""


def check(root):
    root = Path(root)
    files = [p for d in ("core", "gpu", "ui", "app") for p in (root / d).rglob("*") if p.suffix in (".h", ".cpp")]
    cache = {}

    def reaches_torch(rel, seen):
        """The chain of project headers from `rel` to a LibTorch header, or None."""
        if rel in cache:
            return cache[rel]
        if rel in seen:
            return None
        seen.add(rel)
        path = root / rel
        result = None
        if path.is_file():
            for inc in includes(path):
                if inc.startswith(TORCH):
                    result = [rel, inc]
                    break
                if (root / inc).is_file():
                    chain = reaches_torch(inc, seen)
                    if chain:
                        result = [rel] + chain
                        break
        cache[rel] = result
        return result

    problems = []
    for path in sorted(files):
        rel = path.relative_to(root).as_posix()
        lay = layer(rel)
        for inc in includes(path):
            target = layer(inc) if (root / inc).is_file() else ""
            if lay == "core":
                if QT.match(inc):
                    problems.append(f"{rel}: core/ includes Qt <{inc}>")
                if target in ("gpu", "ui", "app"):
                    problems.append(f"{rel}: core/ includes {inc} from {target}/")
                if rel.startswith("core/common/") and inc.startswith("core/") and not inc.startswith("core/common/"):
                    problems.append(f"{rel}: core/common includes {inc} from the rest of core/")
            elif lay == "gpu":
                if QT_GUI.match(inc):
                    problems.append(f"{rel}: gpu/ includes the Qt GUI <{inc}>")
                if target in ("ui", "app"):
                    problems.append(f"{rel}: gpu/ includes {inc} from {target}/")
                if inc.startswith("core/toyworld/"):
                    problems.append(f"{rel}: gpu/ includes {inc}: the toy world reaches the engine as an extension the app passes")
            elif lay == "ui":
                if inc.startswith(TORCH):
                    problems.append(f"{rel}: ui/ includes LibTorch <{inc}>")
                elif (root / inc).is_file():
                    chain = reaches_torch(inc, set())
                    if chain:
                        problems.append(f"{rel}: ui/ reaches LibTorch through " + " -> ".join(chain))
                if target == "app":
                    problems.append(f"{rel}: ui/ includes {inc} from app/")
    return problems


def self_test(root):
    """Copies the layer folders, adds wrong includes one at a time, expects each to be caught."""
    wrong = [("core/common/error.h", '#include "core/io/dtype.h"'),
             ("core/io/dtype.h", "#include <QString>"),
             ("gpu/generation_service.h", '#include "ui/main_window.h"'),
             ("ui/concept_panel.h", "#include <torch/torch.h>"),
             ("ui/concept_panel.h", '#include "core/models/unet.h"'),
             ("gpu/generation_service.cpp", '#include "core/toyworld/world.h"')]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for d in ("core", "gpu", "ui", "app"):
            shutil.copytree(Path(root) / d, Path(tmp) / d)
        if check(tmp):
            print("self-test: the copied tree already fails", file=sys.stderr)
            return 1
        for rel, line in wrong:
            path = Path(tmp) / rel
            original = path.read_text()
            path.write_text(line + "\n" + original)
            found = check(tmp)
            print(f"self-test: {line} in {rel}: " + (found[0] if found else "NOT CAUGHT"))
            failures += not found
            path.write_text(original)
    return 1 if failures else 0


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[2]
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        sys.exit(self_test(here))
    problems = check(sys.argv[1] if len(sys.argv) > 1 else here)
    for p in problems:
        print(p)
    print(f"{len(problems)} layering problems")
    sys.exit(1 if problems else 0)
