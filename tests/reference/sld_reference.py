"""Safe Latent Diffusion references from diffusers' StableDiffusionPipelineSafe.

  sld_reference.py --dir SD_REFERENCE_DIR --out OUT

On the random-weight SD1- and SD2-shaped folders that sd_reference.py wrote, runs diffusers' safe
pipeline for each SLD preset (weak, medium, strong, max), a custom setting with another safety
concept, a negative prompt and a batch of two, and writes OUT/<model>_sld.safetensors (final images
[B, 3, H, W] in [0, 1], the latents after every step, and per step the decision margin: the smallest
|(e_p - e_s) - threshold| over all elements) and OUT/<model>_sld_runs.json (the runs). The same runs
in float64 (weights, text encoder, UNet, scheduler and VAE; the initial noise drawn in float32 as the
C++ pipeline draws it) go to OUT/<model>_sld64.safetensors.

SLD's "d >= threshold" is a discontinuity: where an element's d lies within float32 rounding of the
threshold, two correct implementations may decide it differently, and that element's guidance jumps
by |e_s - e_u|. The margin lets the test tell such a step from a real difference.
"""
import json
import pathlib

import numpy as np
import torch
import diffusers
from diffusers.pipelines.deprecated.stable_diffusion_safe import SafetyConfig, StableDiffusionPipelineSafe
from diffusers.pipelines.deprecated.stable_diffusion_safe import pipeline_stable_diffusion_safe as safe_module
from safetensors.torch import save_file

from reference_args import model_fixture_args

SCHEDULERS = {"ddim": "DDIMScheduler", "euler": "EulerDiscreteScheduler", "euler_a": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler", "pndm": "PNDMScheduler"}

PRESETS = {"weak": SafetyConfig.WEAK, "medium": SafetyConfig.MEDIUM, "strong": SafetyConfig.STRONG,
           "max": SafetyConfig.MAX}

# Steps cover the weak preset's 15 warm-up steps, so every preset acts within the run.
RUNS = {
    "sd1": [dict(preset="weak", scheduler="ddim", steps=18, cfg=7.5, seed=1, prompt="a photo of a doctor"),
            dict(preset="medium", scheduler="ddim", steps=12, cfg=7.5, seed=1, prompt="a photo of a doctor"),
            dict(preset="strong", scheduler="euler_a", steps=10, cfg=5.0, seed=7, prompt="portrait of a nurse",
                 negative="blurry"),
            dict(preset="max", scheduler="dpmpp_2m", steps=8, cfg=7.5, seed=11, prompt="a chef", batch=2),
            dict(preset="custom", scheduler="ddim", steps=8, cfg=6.0, seed=3, prompt="a knife fight",
                 settings=dict(sld_warmup_steps=2, sld_guidance_scale=500, sld_threshold=0.02,
                               sld_momentum_scale=0.2, sld_mom_beta=0.5),
                 concept="blood, gore, a knife")],
    "sd2": [dict(preset="weak", scheduler="ddim", steps=16, cfg=7.5, seed=2, prompt="a firefighter!"),
            dict(preset="medium", scheduler="euler", steps=12, cfg=7.5, seed=5, prompt="a pilot"),
            dict(preset="medium", scheduler="ddim", steps=12, cfg=7.5, seed=5, prompt="a pilot"),
            dict(preset="strong", scheduler="ddim", steps=10, cfg=7.5, seed=2, prompt="a firefighter!"),
            dict(preset="max", scheduler="ddim", steps=8, cfg=4.0, seed=9, prompt="a boxer", negative="dark")],
}


def float32_initial_noise(draw):
    # The C++ pipeline draws the initial latents in float32 whatever the model's precision.
    def wrapped(shape, generator=None, device=None, dtype=None, layout=None):
        return draw(shape, generator=generator, device=device, dtype=torch.float32, layout=layout).to(dtype)
    return wrapped


@torch.no_grad()
def run_model(folder: pathlib.Path, runs: list, dtype=torch.float32) -> dict:
    pipe = StableDiffusionPipelineSafe.from_pretrained(str(folder), safety_checker=None, feature_extractor=None,
                                                       requires_safety_checker=False, torch_dtype=dtype)
    pipe.set_progress_bar_config(disable=True)
    default_concept = pipe.safety_concept
    unet_forward = pipe.unet.forward
    predictions = []

    def recording_forward(*args, **kwargs):
        result = unet_forward(*args, **kwargs)
        predictions.append(result.sample.detach().clone())
        return result

    pipe.unet.forward = recording_forward
    base_config = dict(pipe.scheduler.config)
    tensors = {}
    for i, run in enumerate(runs):
        cls = getattr(diffusers, SCHEDULERS[run["scheduler"]])
        extra = {"use_karras_sigmas": True} if run["scheduler"] == "dpmpp_2m" else {}
        pipe.scheduler = cls.from_config(base_config, **extra)
        pipe.safety_concept = run.get("concept", default_concept)
        settings = run.get("settings") or PRESETS[run["preset"]]
        steps = []
        predictions.clear()
        generator = torch.Generator().manual_seed(run["seed"])
        out = pipe(run["prompt"], negative_prompt=run.get("negative") or None, num_inference_steps=run["steps"],
                   guidance_scale=run["cfg"], num_images_per_prompt=run.get("batch", 1), generator=generator,
                   output_type="np", callback=lambda step, t, latents: steps.append(latents.clone()),
                   callback_steps=1, **settings)
        image = torch.from_numpy(np.ascontiguousarray(out.images)).permute(0, 3, 1, 2).contiguous()
        tensors[f"sld.{i}.image"] = image.to(torch.float64 if dtype == torch.float64 else torch.float32)
        tensors[f"sld.{i}.latents"] = torch.stack(steps).contiguous()
        margins = []
        for prediction in predictions:
            _, text, safety = prediction.chunk(3)
            margins.append(float(((text - safety) - settings["sld_threshold"]).abs().min()))
        tensors[f"sld.{i}.margin"] = torch.tensor(margins, dtype=torch.float64)
        run["settings"] = settings
    return tensors


def main() -> None:
    models, out = model_fixture_args()
    for name, runs in RUNS.items():
        runs = [dict(r) for r in runs]
        tensors = run_model(models / name, runs)
        save_file(tensors, str(out / f"{name}_sld.safetensors"))
        draw = safe_module.randn_tensor
        safe_module.randn_tensor = float32_initial_noise(draw)
        try:
            tensors64 = run_model(models / name, [dict(r) for r in RUNS[name]], torch.float64)
        finally:
            safe_module.randn_tensor = draw
        save_file(tensors64, str(out / f"{name}_sld64.safetensors"))
        (out / f"{name}_sld_runs.json").write_text(json.dumps(runs, indent=1))
        print(f"{name}: {len(runs)} SLD runs")


if __name__ == "__main__":
    main()
