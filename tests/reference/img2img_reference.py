"""Image-to-image references from diffusers' StableDiffusionImg2ImgPipeline and
StableDiffusionXLImg2ImgPipeline on the random-weight models sd_reference.py and sdxl_reference.py wrote.

  img2img_reference.py --sd SD_REFERENCE_DIR --sdxl SDXL_REFERENCE_DIR --out OUT

Writes OUT/img2img.safetensors: per run i, "init.i" (the input picture, uint8 [H, W, 3], the size of
the output so nothing is resized) and "image.i" (the output, float [B, 3, H, W] in [0, 1]), and
OUT/img2img_runs.json (model, scheduler, steps, strength, cfg, seed, prompt, negative, batch).
"""
import argparse
import json
import os
import pathlib

import diffusers
import numpy as np
import PIL.Image
import torch
from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionXLImg2ImgPipeline
from safetensors.torch import save_file

SCHEDULERS = {"ddim": "DDIMScheduler", "euler": "EulerDiscreteScheduler", "euler_a": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler", "pndm": "PNDMScheduler"}

RUNS = [
    dict(model="sd1", scheduler="ddim", steps=10, strength=0.6, cfg=7.5, seed=1, prompt="a photo of a doctor"),
    dict(model="sd1", scheduler="euler", steps=8, strength=0.75, cfg=5.0, seed=2, prompt="a watercolor cat"),
    dict(model="sd1", scheduler="euler_a", steps=8, strength=0.5, cfg=7.5, seed=3, prompt="a chef", negative="blurry"),
    dict(model="sd1", scheduler="dpmpp_2m", steps=9, strength=0.8, cfg=7.5, seed=4, prompt="a pilot", batch=2),
    dict(model="sd1", scheduler="pndm", steps=10, strength=0.7, cfg=7.5, seed=5, prompt="a teacher"),
    dict(model="sd1", scheduler="ddim", steps=6, strength=1.0, cfg=7.5, seed=6, prompt="a nurse"),
    dict(model="sd2", scheduler="ddim", steps=8, strength=0.6, cfg=7.5, seed=7, prompt="a firefighter"),
    dict(model="sdxl", scheduler="euler", steps=8, strength=0.6, cfg=5.0, seed=8, prompt="a photo of a doctor"),
    dict(model="sdxl", scheduler="dpmpp_2m", steps=6, strength=0.9, cfg=7.5, seed=9, prompt="a castle", batch=2),
]


def picture(seed: int, size: int) -> PIL.Image.Image:
    """A smooth, deterministic picture with structure (gradients and a disc)."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.2, 0.8, 3)
    disc = ((x - a) ** 2 + (y - b) ** 2) < (0.25 * c + 0.1) ** 2
    rgb = np.stack([x, y, 1 - x * y], -1) * 0.7 + disc[..., None] * np.array([0.3, -0.2, 0.1])
    return PIL.Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8))


def load_pipeline(cls, folder: pathlib.Path, sdxl: bool):
    """A pipeline of `cls` from a reference folder, quiet, remembering its scheduler config."""
    kwargs = {} if sdxl else dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe = cls.from_pretrained(str(folder), local_files_only=True, **kwargs)
    pipe.set_progress_bar_config(disable=True)
    pipe.base_config = dict(pipe.scheduler.config)
    return pipe


def use_scheduler(pipe, name: str) -> None:
    extra = {"use_karras_sigmas": True} if name == "dpmpp_2m" else {}
    pipe.scheduler = getattr(diffusers, SCHEDULERS[name]).from_config(pipe.base_config, **extra)


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
    folders = {"sd1": pathlib.Path(args.sd) / "sd1", "sd2": pathlib.Path(args.sd) / "sd2",
               "sdxl": pathlib.Path(args.sdxl) / "sdxl"}
    pipes = {}
    tensors = {}
    for i, run in enumerate(RUNS):
        model = run["model"]
        if model not in pipes:
            cls = StableDiffusionXLImg2ImgPipeline if model == "sdxl" else StableDiffusionImg2ImgPipeline
            pipes[model] = load_pipeline(cls, folders[model], model == "sdxl")
        pipe = pipes[model]
        use_scheduler(pipe, run["scheduler"])
        size = pipe.unet.config.sample_size * pipe.vae_scale_factor
        init = picture(run["seed"], size)
        generator = torch.Generator().manual_seed(run["seed"])
        images = pipe(run["prompt"], image=init, strength=run["strength"], negative_prompt=run.get("negative"),
                      num_inference_steps=run["steps"], guidance_scale=run["cfg"],
                      num_images_per_prompt=run.get("batch", 1), generator=generator, output_type="pt").images
        tensors[f"init.{i}"] = torch.from_numpy(np.asarray(init).copy())
        tensors[f"image.{i}"] = images.contiguous()
    save_file(tensors, str(out / "img2img.safetensors"))
    (out / "img2img_runs.json").write_text(json.dumps(RUNS, indent=2))
    print(f"{len(RUNS)} image-to-image runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
