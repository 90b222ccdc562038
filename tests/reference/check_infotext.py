#!/usr/bin/env python3
"""Our PNGs read by A1111's parser (the re-implementation in a1111_infotext.py).

Runs `respodiff generate` on the embedded model for every sampler we have, the model's own, a batch,
a comparison sheet, and a model folder and prompts full of characters the format must escape; then
parses each PNG's "parameters" as A1111 does and checks every field we write against what was asked
and what the file really is; concept modules, clip skip and inpainting add their keys (its pixel size, the model folder's documented hash computed here).

  check_infotext.py --respodiff BIN --model DIR --work DIR
Prints one line per picture and exits 1 on the first mismatch.
"""
import argparse
import hashlib
import os
import pathlib
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import a1111_infotext  # noqa: E402


def png_size(path: pathlib.Path) -> tuple:
    data = path.read_bytes()[:24]
    return struct.unpack(">II", data[16:24])


def folder_hash(folder: pathlib.Path) -> str:
    """The documented "Model hash" of a diffusers folder (core/pipeline/model_hash.h), written again."""
    names = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix in (".safetensors", ".json", ".txt"):
            names.append(rel.as_posix())
    listing = "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n"
                      for n in sorted(names, key=lambda n: n.encode()))
    return hashlib.sha256(listing.encode()).hexdigest()[:10]


FAILURES = []


def expect(what: str, got, want):
    if got != want:
        FAILURES.append(f"{what}: A1111 reads {got!r}, expected {want!r}")


def check(png: pathlib.Path, want: dict, prompt: str, negative: str):
    parsed = a1111_infotext.parse_generation_parameters(a1111_infotext.png_parameters(png))
    width, height = png_size(png)
    want = dict(want)
    want["Size-1"], want["Size-2"] = str(width), str(height)
    expect(f"{png.name} prompt", parsed.get("Prompt"), prompt)
    expect(f"{png.name} negative prompt", parsed.get("Negative prompt"), negative)
    for key, value in want.items():
        expect(f"{png.name} {key}", parsed.get(key), value)
    print(f"{png.name}: " + ", ".join(f"{k}={parsed.get(k)!r}" for k in sorted(want)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respodiff", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model = pathlib.Path(args.model)
    # A model folder whose name needs quoting: quote, backslash, comma, colon.
    odd_model = work / 'toy "q\\uote, v2: x'
    shutil.copytree(model, odd_model)

    def run(out: str, *extra, model_dir=None, prompt="a person in a park", negative="") -> pathlib.Path:
        cmd = [args.respodiff, "generate", "--prompt", prompt, "--steps", "4", "--seed", "11", "--cfg", "7.5",
               "--quiet", "--out", str(work / out), *extra]
        if negative:
            cmd += ["--negative", negative]
        if model_dir is not None:
            cmd += ["--model", str(model_dir)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return work / out

    base_hash = folder_hash(model)
    common = {"Steps": "4", "CFG scale": "7.5", "Seed": "11", "Model": model.name, "Model hash": base_hash}
    samplers = {"ddim": ("DDIM", "Automatic"), "euler": ("Euler", "Automatic"), "euler_a": ("Euler a", "Automatic"),
                "dpmpp_2m": ("DPM++ 2M", "Karras"), "pndm": ("PLMS", "Automatic")}
    for ours, (sampler, schedule) in samplers.items():
        png = run(f"{ours}.png", "--scheduler", ours)
        check(png, {**common, "Sampler": sampler, "Schedule type": schedule}, "a person in a park", "")
    # The model's own scheduler, named as what it is (the embedded model's config says DDIM).
    png = run("default.png")
    check(png, {**common, "Sampler": "DDIM", "Schedule type": "Automatic"}, "a person in a park", "")
    # A batch: each picture says the batch's seed and its position in the batch.
    run("batch.png", "--scheduler", "euler_a", "--batch", "2")
    for pos in (0, 1):
        check(work / f"batch-{pos}.png", {**common, "Sampler": "Euler a", "Batch size": "2", "Batch pos": str(pos)},
              "a person in a park", "")
    # A comparison sheet: its true size; the images' size as "Sheet cell size" (A1111 splits it too).
    png = run("sheet.png", "--compare", "--method", "negative:blurry")
    w, h = png_size(png)
    check(png, {**common, "Sampler": "DDIM", "Sheet cell size-1": str(h), "Sheet cell size-2": str(h)},
          "a person in a park", "")
    if w <= h:
        FAILURES.append(f"sheet.png is {w}x{h}: not a side-by-side sheet")
    # Values that need escaping, in the model name and the prompts.
    prompt = 'a "quoted" person, at 5:30, with a back\\slash'
    negative = 'blurry, "text": watermark'
    png = run("escaped.png", "--scheduler", "dpmpp_2m", model_dir=odd_model, prompt=prompt, negative=negative)
    check(png, {**common, "Sampler": "DPM++ 2M", "Schedule type": "Karras", "Model": odd_model.name,
                "Model hash": folder_hash(odd_model)}, prompt, negative)
    # Concept modules and clip skip: the RespoDiff fields (one quoted, with commas and colons) as written.
    concepts = model.parent / "concepts"
    woman, knife = concepts / "gender-woman.safetensors", concepts / "safety-knife.safetensors"
    png = run("concepts.png", "--concept", f"{woman},{knife}", "--clip-skip", "1")
    short = {f: hashlib.sha256(f.read_bytes()).hexdigest()[:10] for f in (woman, knife)}
    check(png, {**common, "Sampler": "DDIM", "Clip skip": "2",
                "RespoDiff": "a woman [RAM 100% SAM 100%]; knife [RAM 100% SAM 100%]",
                "RespoDiff hashes": f"a woman: {short[woman]}, knife: {short[knife]}",
                "RespoDiff groups": "gender=random"}, "a person in a park", "")
    # Inpainting: A1111's img2img keys.
    from PIL import Image
    mask = Image.new("RGB", (64, 64), "black")
    mask.paste((255, 255, 255), (16, 16, 48, 48))
    mask.save(work / "mask-input.png")
    png = run("inpaint.png", "--init-image", str(work / "ddim.png"), "--strength", "0.5",
              "--mask", str(work / "mask-input.png"), prompt="a person, smiling")
    check(png, {**common, "Sampler": "DDIM", "Denoising strength": "0.5", "Mask blur": "4"}, "a person, smiling", "")
    if FAILURES:
        print("\n".join(FAILURES), file=sys.stderr)
        return 1
    count = len([p for p in work.glob("*.png") if p.name != "mask-input.png"])
    print(f"check_infotext: {count} pictures read by A1111's parser, every field as written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
