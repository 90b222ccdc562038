"""One RespoDiff training step re-implemented with diffusers, for the C++ trainer's parity test.

  respo_step_reference.py --model DIR --out FILE.safetensors

On a random-weight model written by sd_reference.py (SD1-shaped) or sdxl_reference.py (SDXL-shaped:
every UNet call also gets the pooled text embeddings and the size ids of the training resolution, and
the empty prompt is the zero embedding, as StableDiffusionXLPipeline makes it), or the toy model:
the reference init of R and S,
given noise and trajectory lengths k, k DDIM steps (50-step schedule, CFG 3, R+S on the conditional
half), the CFG-guided target, L_resp with an Adam step on R, then L_sem with an Adam step on S.
Cases: gender (both timestep conventions, batch 1 and 2) and a safety preset.

Every case runs twice: in float32 (what the C++ trainer computes) and in float64 (".f64" entries).
The distance between the two is the float32 computation's own rounding error on this CPU, from which
the C++ test derives its bounds, so they hold on any x86-64 machine (AVX2 or AVX-512).
"""
import os
import argparse
import json
import pathlib

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline, StableDiffusionXLPipeline
from safetensors.torch import save_file

CASES = [
    dict(name="woman_reference", target="a woman", negative="", neutral="a person", w_tar=4.0, ram_lr=1e-2,
         sam_lr=1e-3, lam=1.0, convention="reference", ks=[3], seed=21),
    dict(name="woman_trajectory", target="a woman", negative="", neutral="a person", w_tar=4.0, ram_lr=1e-2,
         sam_lr=1e-3, lam=1.0, convention="trajectory", ks=[2, 0], seed=22),
    dict(name="violence_reference", target="a scene", negative="violence", neutral="a scene", w_tar=12.0,
         ram_lr=1e-2, sam_lr=1e-4, lam=1.0, convention="reference", ks=[4], seed=23),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))  # as the C++ side under CTest
    index = json.loads((pathlib.Path(args.model) / "model_index.json").read_text())
    xl = index["_class_name"] == "StableDiffusionXLPipeline"
    if xl:
        pipe = StableDiffusionXLPipeline.from_pretrained(args.model, add_watermarker=False)
    else:
        pipe = StableDiffusionPipeline.from_pretrained(args.model, safety_checker=None, feature_extractor=None,
                                                       requires_safety_checker=False)
    unet = pipe.unet.eval().requires_grad_(False)
    side = unet.config.sample_size  # the native latent size; the trainer's default resolution
    pixels = side * pipe.vae_scale_factor

    class Cond:
        """Prompt conditioning of one row: the context and, for SDXL, pooled embeds and size ids."""
        def __init__(self, context, pooled=None):
            self.context, self.pooled = context, pooled

        def rows(self, n):
            return Cond(self.context.expand(n, -1, -1), None if self.pooled is None else self.pooled.expand(n, -1))

        def cat(self, other):
            return Cond(torch.cat([self.context, other.context]),
                        None if self.pooled is None else torch.cat([self.pooled, other.pooled]))

    def embed(prompt):
        with torch.no_grad():
            if xl:
                context, _, pooled, _ = pipe.encode_prompt(prompt, do_classifier_free_guidance=False)
                return Cond(context, pooled)
            ids = pipe.tokenizer(prompt, padding="max_length", max_length=77, truncation=True,
                                 return_tensors="pt").input_ids
            return Cond(pipe.text_encoder(ids)[0])

    def embed_negative(prompt, like):
        # StableDiffusionXLPipeline with force_zeros_for_empty_prompt: an empty negative is zeros.
        if xl and prompt == "" and pipe.config.force_zeros_for_empty_prompt:
            return Cond(torch.zeros_like(like.context), torch.zeros_like(like.pooled))
        return embed(prompt)

    delta = {"value": None}
    unet.mid_block.register_forward_hook(lambda m, i, o: o if delta["value"] is None else o + delta["value"])

    def eps(z, t, cond, d=None):
        delta["value"] = d
        added = None
        if xl:
            ids = torch.tensor([[pixels, pixels, 0, 0, pixels, pixels]], dtype=z.dtype).expand(z.shape[0], -1)
            added = {"text_embeds": cond.pooled, "time_ids": ids}
        out = unet(z, t, encoder_hidden_states=cond.context, added_cond_kwargs=added).sample
        delta["value"] = None
        return out

    def run_case(case, dtype, out):
        suffix = "" if dtype == torch.float32 else ".f64"
        sched = DDIMScheduler.from_config(pipe.scheduler.config)
        sched.set_timesteps(50)
        # The bottleneck of the native latent: the last block's channels, halved len-1 times.
        cfg = unet.config
        h_side = side // 2 ** (len(cfg.block_out_channels) - 1)
        h = (cfg.block_out_channels[-1], h_side, h_side)
        g = torch.Generator().manual_seed(case["seed"])
        bound = 1 / 10 ** 0.5
        ram = torch.empty(1, *h).uniform_(-bound, bound, generator=g)
        sam = torch.empty(1, *h).uniform_(-bound, bound, generator=g)
        noise = torch.randn(len(case["ks"]), 4, side, side, generator=torch.Generator().manual_seed(case["seed"] + 100))
        if dtype == torch.float32:
            out[f"{case['name']}.ram0"], out[f"{case['name']}.sam0"] = ram.clone(), sam.clone()
            out[f"{case['name']}.noise"] = noise
        # The same float32 inputs, widened for the float64 run.
        ram, sam, noise = ram.to(dtype), sam.to(dtype), noise.to(dtype)
        e_neu, e_tar = embed(case["neutral"]), embed(case["target"])
        e_empty, e_neg = embed_negative("", e_neu), embed_negative(case["negative"], e_neu)
        prefix = case["name"]

        zs, ts = [], []
        with torch.no_grad():
            for b, k in enumerate(case["ks"]):
                z = noise[b:b + 1]
                for i in range(k):
                    t = sched.timesteps[i]
                    d = torch.cat([torch.zeros_like(ram), ram + sam])
                    e = eps(torch.cat([z, z]), t, e_empty.cat(e_neu), d).chunk(2)
                    z = sched.step(e[0] + 3.0 * (e[1] - e[0]), t, z).prev_sample
                zs.append(z)
                ts.append(float(1000 - 20 * k) if case["convention"] == "reference" else float(sched.timesteps[k]))
        z = torch.cat(zs)
        t = torch.tensor(ts, dtype=dtype)
        n = len(ts)
        with torch.no_grad():
            e = eps(torch.cat([z, z]), torch.cat([t, t]), e_neg.rows(n).cat(e_tar.rows(n))).chunk(2)
            target = e[0] + case["w_tar"] * (e[1] - e[0])
            original = eps(z, t, e_neu.rows(n))

        r = torch.nn.Parameter(ram.clone())
        opt_r = torch.optim.Adam([r], lr=case["ram_lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
        loss_resp = (eps(z, t, e_neu.rows(n), r) - target).pow(2).mean()
        loss_resp.backward()
        opt_r.step()
        s = torch.nn.Parameter(sam.clone())
        opt_s = torch.optim.Adam([s], lr=case["sam_lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
        loss_sem = case["lam"] * (eps(z, t, e_neu.rows(n), r.detach() + s) - original).pow(2).mean()
        loss_sem.backward()
        opt_s.step()
        out[f"{prefix}.ram1{suffix}"], out[f"{prefix}.sam1{suffix}"] = r.detach().clone(), s.detach().clone()
        out[f"{prefix}.losses{suffix}"] = torch.tensor([loss_resp.item(), loss_sem.item()], dtype=torch.float64)
        out[f"{prefix}.ks"] = torch.tensor(case["ks"], dtype=torch.int64)

    out = {}
    for dtype in (torch.float32, torch.float64):
        pipe.to(dtype=dtype)
        for case in CASES:
            run_case(case, dtype, out)
    save_file(out, args.out, metadata={"cases": json.dumps(CASES)})
    print(f"wrote {len(CASES)} training-step cases, in float32 and float64")


if __name__ == "__main__":
    main()
