"""Pillow's GaussianBlur on a few pictures and radii, the reference for core/io/gaussian_blur.

  blur_reference.py OUT

Writes OUT/blur.safetensors: "image.<i>" (uint8 [H, W, 3]) and "blur.<i>.<j>" (the picture blurred with
ImageFilter.GaussianBlur(RADII[j])), and OUT/blur.json (the radii).
"""
import json
import pathlib
import sys

import numpy as np
import PIL.Image
import PIL.ImageFilter
import torch
from safetensors.torch import save_file

RADII = [0.3, 0.5, 1, 2.5, 4, 7.25, 33]


def pictures() -> list:
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, (23, 37, 3), dtype=np.uint8)  # odd sizes, every value
    y, x = np.mgrid[0:40, 0:48]
    mask = (((x - 20) ** 2 + (y - 18) ** 2) < 120) | ((x > 34) & (y < 9))
    binary = np.repeat((mask * 255).astype(np.uint8)[..., None], 3, -1)  # an inpainting mask
    line = rng.integers(0, 256, (1, 9, 3), dtype=np.uint8)  # one row, narrower than the box
    return [noise, binary, line]


def main() -> int:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for i, picture in enumerate(pictures()):
        tensors[f"image.{i}"] = torch.from_numpy(picture.copy())
        for j, radius in enumerate(RADII):
            blurred = PIL.Image.fromarray(picture).filter(PIL.ImageFilter.GaussianBlur(radius))
            tensors[f"blur.{i}.{j}"] = torch.from_numpy(np.asarray(blurred).copy())
    save_file(tensors, str(out / "blur.safetensors"))
    (out / "blur.json").write_text(json.dumps({"radii": RADII, "pictures": len(pictures())}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
