"""Expected scheduler behaviour from diffusers, for the C++ schedulers' parity test.

Writes to OUT_DIR:
  schedules.json     for every scheduler, config, timestep spacing and 1..100 inference steps: the
                     timesteps, sigmas and init_noise_sigma after set_timesteps; the float32
                     alphas_cumprod of each scheduler/config; and the combinations diffusers refuses.
  steps.json         the step-level cases (scheduler, config, spacing, seed) ...
  steps.safetensors  ... and their tensors: the initial noise, the fixed part of every fake model
                     output, the final sample of a full denoising loop and, for Euler ancestral, the
                     next draw of the generator (to check both sides consumed the same noise).

Usage: scheduler_reference.py OUT_DIR
"""
import argparse
import json
import pathlib
import warnings

import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                       EulerDiscreteScheduler, PNDMScheduler)
from diffusers.utils import logging as diffusers_logging
from safetensors.torch import save_file

CLASSES = {
    "ddim": DDIMScheduler,
    "euler": EulerDiscreteScheduler,
    "euler_a": EulerAncestralDiscreteScheduler,
    "dpmpp_2m": DPMSolverMultistepScheduler,
    "pndm": PNDMScheduler,
}
SIGMA_BASED = {"euler", "euler_a", "dpmpp_2m"}
SPACINGS = ("leading", "trailing", "linspace")
MAX_STEPS = 100

# Every key is spelled out: the classes' own defaults differ (e.g. Euler's spacing is "linspace",
# DDIM clips by default), while the C++ config has SD1.5's defaults for all schedulers.
SD1 = {
    "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "steps_offset": 1,
    "set_alpha_to_one": False, "clip_sample": False, "clip_sample_range": 1.0,
    "skip_prk_steps": True, "use_karras_sigmas": False, "interpolation_type": "linear",
    "rescale_betas_zero_snr": False, "timestep_type": "discrete",
}
COSINE = {**SD1, "beta_schedule": "squaredcos_cap_v2", "steps_offset": 0, "set_alpha_to_one": True}
CONFIGS = {
    "sd1": SD1,
    "sd2_v": {**SD1, "prediction_type": "v_prediction"},
    "linear_offset0": {**SD1, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
                       "steps_offset": 0, "set_alpha_to_one": True, "clip_sample": True},
    "cosine": COSINE,
    "zero_snr": {**SD1, "rescale_betas_zero_snr": True, "prediction_type": "v_prediction"},
    "karras": {**SD1, "use_karras_sigmas": True},
    "karras_cosine": {**COSINE, "use_karras_sigmas": True},
    "log_linear": {**SD1, "interpolation_type": "log_linear"},
    "continuous_v": {**SD1, "prediction_type": "v_prediction", "timestep_type": "continuous"},
    "prk": {**SD1, "skip_prk_steps": False},
    "sample_pred": {**SD1, "prediction_type": "sample"},
}
# Which configs each scheduler is compared on. Configs that only change keys a scheduler does not
# have (Karras sigmas for DDIM, PNDM and Euler ancestral; interpolation and timestep type outside
# Euler; skip_prk_steps outside PNDM) would only repeat "sd1", so they are left out.
# PNDM has no rescale_betas_zero_snr (the C++ side refuses it), Euler ancestral and PNDM reject
# prediction_type "sample" (at their first step in diffusers, at construction in C++).
COMMON = ["sd1", "sd2_v", "linear_offset0", "cosine"]
PLAN = {
    "ddim": COMMON + ["zero_snr", "sample_pred"],
    "euler": COMMON + ["zero_snr", "karras", "karras_cosine", "log_linear", "continuous_v", "sample_pred"],
    "euler_a": COMMON + ["zero_snr"],
    "dpmpp_2m": COMMON + ["zero_snr", "karras", "karras_cosine", "sample_pred"],
    "pndm": COMMON + ["prk"],
}

# Step-level loops: (scheduler, config, spacing, seed for Euler ancestral's generator).
STEP_CASES = [
    ("ddim", "sd1", "leading", None),
    ("ddim", "zero_snr", "trailing", None),
    ("ddim", "linear_offset0", "linspace", None),  # clip_sample on
    ("ddim", "sample_pred", "leading", None),
    ("euler", "sd1", "leading", None),
    ("euler", "sd2_v", "trailing", None),
    ("euler", "karras", "leading", None),
    ("euler", "sample_pred", "linspace", None),
    ("euler_a", "sd1", "leading", 1234),
    ("euler_a", "sd2_v", "trailing", 42),
    ("euler_a", "cosine", "linspace", 7),
    ("dpmpp_2m", "sd1", "leading", None),
    ("dpmpp_2m", "karras", "leading", None),
    ("dpmpp_2m", "zero_snr", "trailing", None),
    ("dpmpp_2m", "sample_pred", "linspace", None),
    ("pndm", "sd1", "leading", None),
    ("pndm", "sd2_v", "trailing", None),
    ("pndm", "prk", "leading", None),
]
STEP_COUNT = 10
SHAPE = (2, 4, 8, 8)


def make(name: str, config_name: str, spacing: str):
    cls = CLASSES[name]
    return cls.from_config({"_class_name": cls.__name__, **CONFIGS[config_name], "timestep_spacing": spacing})


def full_config(name: str, config_name: str, spacing: str) -> dict:
    return {"_class_name": CLASSES[name].__name__, **CONFIGS[config_name], "timestep_spacing": spacing}


def schedules() -> dict:
    cases, refused, alphas = [], [], {}
    for name, config_names in PLAN.items():
        for config_name in config_names:
            alphas[f"{name}/{config_name}"] = make(name, config_name, "leading").alphas_cumprod.tolist()
            for spacing in SPACINGS:
                for steps in range(1, MAX_STEPS + 1):
                    scheduler = make(name, config_name, spacing)
                    entry = {"scheduler": name, "config_name": config_name, "spacing": spacing, "steps": steps,
                             "config": full_config(name, config_name, spacing)}
                    try:
                        scheduler.set_timesteps(steps)
                    except Exception as error:  # noqa: BLE001 - recorded so C++ must refuse it too
                        # e.g. PNDM without skip_prk_steps below 4 steps: its warm-up takes the last
                        # four timesteps and numpy cannot broadcast fewer.
                        refused.append({**entry, "reason": f"{type(error).__name__}: {error}"})
                        continue
                    entry["timesteps"] = [float(t) for t in scheduler.timesteps.tolist()]
                    entry["sigmas"] = scheduler.sigmas.tolist() if name in SIGMA_BASED else None
                    entry["init_noise_sigma"] = float(scheduler.init_noise_sigma)
                    cases.append(entry)
    return {"cases": cases, "refused": refused, "alphas_cumprod": alphas}


def step_cases(out: pathlib.Path) -> None:
    tensors, meta = {}, []
    for index, (name, config_name, spacing, seed) in enumerate(STEP_CASES):
        key = f"case{index}"
        data = torch.Generator().manual_seed(1000 + index)
        scheduler = make(name, config_name, spacing)
        scheduler.set_timesteps(STEP_COUNT)
        calls = len(scheduler.timesteps)
        noise = torch.randn(SHAPE, generator=data)
        fixed = torch.randn((calls, *SHAPE), generator=data)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        latents = noise * scheduler.init_noise_sigma
        for i, t in enumerate(scheduler.timesteps):
            # A fake model that also reads its (scaled) input, so scale_model_input counts too.
            output = fixed[i] + 0.1 * scheduler.scale_model_input(latents, t)
            extra = {"generator": generator} if name == "euler_a" else {}
            latents = scheduler.step(output, t, latents, **extra).prev_sample
        tensors[f"{key}/noise"] = noise
        tensors[f"{key}/fixed"] = fixed
        tensors[f"{key}/final"] = latents.contiguous()
        if generator is not None:
            tensors[f"{key}/next_noise"] = torch.randn((16,), generator=generator)
        meta.append({"key": key, "scheduler": name, "config_name": config_name, "spacing": spacing,
                     "seed": seed, "steps": STEP_COUNT, "calls": calls,
                     "config": full_config(name, config_name, spacing)})
    save_file(tensors, str(out / "steps.safetensors"))
    (out / "steps.json").write_text(json.dumps({"cases": meta}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args()
    diffusers_logging.set_verbosity_error()  # from_config warns about keys a class does not take
    warnings.filterwarnings("ignore")
    args.out.mkdir(parents=True, exist_ok=True)
    result = schedules()
    (args.out / "schedules.json").write_text(json.dumps(result, separators=(",", ":")))
    step_cases(args.out)
    print(f"{len(result['cases'])} schedules, {len(result['refused'])} refused combinations, "
          f"{len(STEP_CASES)} step loops written to {args.out}")


if __name__ == "__main__":
    main()
