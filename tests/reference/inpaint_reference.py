"""Inpainting references from diffusers' StableDiffusionInpaintPipeline and StableDiffusionXLInpaintPipeline:
on the random SD1 model (a 4-channel UNet: the pipeline blends the known region back in after every
step), on an inpainting model made from it (a random 9-channel UNet that sees the mask and the masked
picture) and on the random SDXL model; some runs blur the mask first (mask_processor.blur).

  inpaint_reference.py --sd SD_REFERENCE_DIR --sdxl SDXL_REFERENCE_DIR --out OUT

Writes OUT/sd1_inpaint/ (the inpainting model: sd1's folder with the 9-channel UNet);
OUT/inpaint.safetensors: per run i, "init.i" and "mask.i" (uint8 [H, W, 3]; the mask before the run's
blur, white where the picture is repainted, black where it is kept) and "image.i" (float [B, 3, H, W]
in [0, 1]); OUT/inpaint_runs.json; and the first run's picture and mask as OUT/init.png and
OUT/mask.png.
"""
import argparse
import json
import os
import pathlib
import shutil
import sys

import numpy as np
import PIL.Image
import torch
from diffusers import StableDiffusionInpaintPipeline, StableDiffusionXLInpaintPipeline, UNet2DConditionModel
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from img2img_reference import load_pipeline, picture, use_scheduler  # noqa: E402
from sd_reference import randomize  # noqa: E402

RUNS = [
    dict(model="sd1", scheduler="ddim", steps=8, strength=1.0, cfg=7.5, seed=1, prompt="a photo of a doctor", blur=4),
    dict(model="sd1", scheduler="euler_a", steps=8, strength=0.75, cfg=5.0, seed=2, prompt="a cat", negative="blurry"),
    dict(model="sd1", scheduler="dpmpp_2m", steps=8, strength=0.8, cfg=7.5, seed=3, prompt="a chef", batch=2),
    dict(model="sd1", scheduler="pndm", steps=8, strength=0.6, cfg=7.5, seed=4, prompt="a pilot"),
    dict(model="sd1_inpaint", scheduler="ddim", steps=8, strength=1.0, cfg=7.5, seed=5, prompt="a teacher"),
    dict(model="sd1_inpaint", scheduler="euler", steps=8, strength=0.7, cfg=7.5, seed=6, prompt="a nurse", batch=2),
    dict(model="sd1_inpaint", scheduler="dpmpp_2m", steps=6, strength=1.0, cfg=4.0, seed=7, prompt="a castle"),
    dict(model="sdxl", scheduler="euler", steps=8, strength=1.0, cfg=5.0, seed=8, prompt="a photo of a doctor"),
    dict(model="sdxl", scheduler="dpmpp_2m", steps=8, strength=0.7, cfg=7.5, seed=9, prompt="a chef", batch=2, blur=2.5),
    dict(model="sd1_inpaint", scheduler="euler_a", steps=6, strength=0.9, cfg=7.5, seed=10, prompt="a boat", blur=7),
]


def mask_picture(seed: int, size: int) -> PIL.Image.Image:
    """A rectangle and a disc to repaint (white), the rest kept (black)."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    rng = np.random.default_rng(100 + seed)
    a, b = rng.uniform(0.3, 0.7, 2)
    white = ((x - a) ** 2 + (y - b) ** 2 < 0.06) | ((x > 0.6) & (y < 0.3))
    return PIL.Image.fromarray(np.repeat((white * 255).astype(np.uint8)[..., None], 3, -1))


def inpainting_model(sd1: pathlib.Path, folder: pathlib.Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(sd1, folder)
    config = dict(UNet2DConditionModel.load_config(str(sd1 / "unet")))
    config["in_channels"] = 9
    unet = UNet2DConditionModel.from_config(config)
    randomize(unet, 9)
    shutil.rmtree(folder / "unet")
    unet.save_pretrained(str(folder / "unet"))


@torch.no_grad()
def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sd", required=True)
    ap.add_argument("--sdxl", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    inpainting_model(pathlib.Path(args.sd) / "sd1", out / "sd1_inpaint")
    folders = {"sd1": pathlib.Path(args.sd) / "sd1", "sd1_inpaint": out / "sd1_inpaint",
               "sdxl": pathlib.Path(args.sdxl) / "sdxl"}
    pipes, tensors = {}, {}
    for i, run in enumerate(RUNS):
        model = run["model"]
        if model not in pipes:
            cls = StableDiffusionXLInpaintPipeline if model == "sdxl" else StableDiffusionInpaintPipeline
            pipes[model] = load_pipeline(cls, folders[model], model == "sdxl")
        pipe = pipes[model]
        use_scheduler(pipe, run["scheduler"])
        size = pipe.unet.config.sample_size * pipe.vae_scale_factor
        init, mask = picture(run["seed"], size), mask_picture(run["seed"], size)
        if run.get("blur"):
            mask = pipe.mask_processor.blur(mask, blur_factor=run["blur"])
        generator = torch.Generator().manual_seed(run["seed"])
        images = pipe(run["prompt"], image=init, mask_image=mask, strength=run["strength"],
                      negative_prompt=run.get("negative"), num_inference_steps=run["steps"],
                      guidance_scale=run["cfg"], num_images_per_prompt=run.get("batch", 1), generator=generator,
                      height=size, width=size, output_type="pt").images
        tensors[f"init.{i}"] = torch.from_numpy(np.asarray(init).copy())
        tensors[f"mask.{i}"] = torch.from_numpy(np.asarray(mask_picture(run["seed"], size)).copy())  # unblurred
        tensors[f"image.{i}"] = images.contiguous()
        if i == 0:  # for the command line's test (the mask before blurring)
            init.save(out / "init.png")
            mask_picture(run["seed"], size).save(out / "mask.png")
    save_file(tensors, str(out / "inpaint.safetensors"))
    (out / "inpaint_runs.json").write_text(json.dumps(RUNS, indent=2))
    print(f"{len(RUNS)} inpainting runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
