"""One RespoDiff training step re-implemented with diffusers, for the C++ trainer's parity test.

  respo_step_reference.py --model DIR --out FILE.safetensors

On the random-weight SD1-shaped model written by sd_reference.py: the reference init of R and S,
given noise and trajectory lengths k, k DDIM steps (50-step schedule, CFG 3, R+S on the conditional
half), the CFG-guided target, L_resp with an Adam step on R, then L_sem with an Adam step on S.
Cases: gender (both timestep conventions, batch 1 and 2) and a safety preset.
"""
import argparse
import json

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline
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
    torch.set_num_threads(2)
    pipe = StableDiffusionPipeline.from_pretrained(args.model, safety_checker=None, feature_extractor=None,
                                                   requires_safety_checker=False)
    unet = pipe.unet.eval().requires_grad_(False)

    def embed(prompt):
        ids = pipe.tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            return pipe.text_encoder(ids)[0]

    delta = {"value": None}
    unet.mid_block.register_forward_hook(lambda m, i, o: o if delta["value"] is None else o + delta["value"])

    def eps(z, t, context, d=None):
        delta["value"] = d
        out = unet(z, t, encoder_hidden_states=context).sample
        delta["value"] = None
        return out

    out = {}
    for case in CASES:
        sched = DDIMScheduler.from_config(pipe.scheduler.config)
        sched.set_timesteps(50)
        # The bottleneck of a 16x16 latent: the last block's channels, halved len-1 times.
        cfg = unet.config
        side = 16 // 2 ** (len(cfg.block_out_channels) - 1)
        h = (cfg.block_out_channels[-1], side, side)
        g = torch.Generator().manual_seed(case["seed"])
        bound = 1 / 10 ** 0.5
        ram = torch.empty(1, *h).uniform_(-bound, bound, generator=g)
        sam = torch.empty(1, *h).uniform_(-bound, bound, generator=g)
        noise = torch.randn(len(case["ks"]), 4, 16, 16, generator=torch.Generator().manual_seed(case["seed"] + 100))
        e_empty, e_neu, e_tar, e_neg = embed(""), embed(case["neutral"]), embed(case["target"]), embed(case["negative"])
        prefix = case["name"]
        out[f"{prefix}.ram0"], out[f"{prefix}.sam0"], out[f"{prefix}.noise"] = ram.clone(), sam.clone(), noise

        zs, ts = [], []
        with torch.no_grad():
            for b, k in enumerate(case["ks"]):
                z = noise[b:b + 1]
                for i in range(k):
                    t = sched.timesteps[i]
                    d = torch.cat([torch.zeros_like(ram), ram + sam])
                    e = eps(torch.cat([z, z]), t, torch.cat([e_empty, e_neu]), d).chunk(2)
                    z = sched.step(e[0] + 3.0 * (e[1] - e[0]), t, z).prev_sample
                zs.append(z)
                ts.append(float(1000 - 20 * k) if case["convention"] == "reference" else float(sched.timesteps[k]))
        z = torch.cat(zs)
        t = torch.tensor(ts)
        n = len(ts)
        with torch.no_grad():
            e = eps(torch.cat([z, z]), torch.cat([t, t]), torch.cat([e_neg.expand(n, -1, -1), e_tar.expand(n, -1, -1)])).chunk(2)
            target = e[0] + case["w_tar"] * (e[1] - e[0])
            original = eps(z, t, e_neu.expand(n, -1, -1))

        r = torch.nn.Parameter(ram.clone())
        opt_r = torch.optim.Adam([r], lr=case["ram_lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
        loss_resp = (eps(z, t, e_neu.expand(n, -1, -1), r) - target).pow(2).mean()
        loss_resp.backward()
        opt_r.step()
        s = torch.nn.Parameter(sam.clone())
        opt_s = torch.optim.Adam([s], lr=case["sam_lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
        loss_sem = case["lam"] * (eps(z, t, e_neu.expand(n, -1, -1), r.detach() + s) - original).pow(2).mean()
        loss_sem.backward()
        opt_s.step()
        out[f"{prefix}.ram1"], out[f"{prefix}.sam1"] = r.detach().clone(), s.detach().clone()
        out[f"{prefix}.losses"] = torch.tensor([loss_resp.item(), loss_sem.item()], dtype=torch.float64)
        out[f"{prefix}.ks"] = torch.tensor(case["ks"], dtype=torch.int64)
    save_file(out, args.out, metadata={"cases": json.dumps(CASES)})
    print(f"wrote {len(CASES)} training-step cases")


if __name__ == "__main__":
    main()
