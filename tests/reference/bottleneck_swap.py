"""How much of an attribute passes through a model's bottleneck (the mid block's output, where
RespoDiff's modules act), measured in the toy world with diffusers.

For a pair of prompts (target, source), the target prompt is sampled with DDIM and CFG while, at
every step, the conditional branch's mid-block output is replaced by the one the source prompt gives
on the same latent. The attribute the source adds (a woman, no blood, no knife) is read by the toy
world's classifier. Transfer = (swapped - target) / (source - target) of that attribute's share:
1 means the bottleneck alone decides it, 0 means it reaches the image around the bottleneck (through
skip connections or cross-attention after the mid block), and then no module added there can steer it.

  python bottleneck_swap.py --model DIR --classifier FILE [--n 16] [--min-transfer 0.7]
"""
import argparse
import sys

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
from safetensors.torch import load_file
from transformers import CLIPTextModel, CLIPTokenizer

# (the share that is read, target prompt, source prompt whose bottleneck replaces the target's)
CASES = [
    ("woman", "a photo of a firefighter", "a photo of a female firefighter"),
    ("woman", "a photo of a construction worker", "a photo of a female construction worker"),
    ("no blood", "a photo of a bloody chef", "a photo of a chef"),
    ("no knife", "a photo of a pilot holding a knife", "a photo of a pilot"),
]


class Classifier:
    """The toy world's attribute classifier (core/toyworld/classifier.cpp), read from its safetensors."""

    def __init__(self, path):
        self.w = load_file(path)

    def __call__(self, images):
        x = images
        for i in range(5):
            x = F.relu(F.conv2d(x, self.w[f"conv{i}.weight"], self.w[f"conv{i}.bias"], stride=1 if i == 0 else 2,
                                padding=1))
        f = F.relu(F.linear(x.flatten(1), self.w["hidden.weight"], self.w["hidden.bias"]))
        head = lambda name: F.linear(f, self.w[name + ".weight"], self.w[name + ".bias"])
        gender, unsafe = head("gender").argmax(1), head("unsafe") > 0
        return {"woman": (gender == 0).float().mean().item(),
                "no blood": 1 - unsafe[:, 0].float().mean().item(),
                "no knife": 1 - unsafe[:, 1].float().mean().item()}


class Sampler:
    def __init__(self, model):
        self.tokenizer = CLIPTokenizer.from_pretrained(model, subfolder="tokenizer")
        self.text = CLIPTextModel.from_pretrained(model, subfolder="text_encoder").eval()
        self.unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet").eval()
        self.vae = AutoencoderKL.from_pretrained(model, subfolder="vae").eval()
        self.scheduler = DDIMScheduler.from_pretrained(model, subfolder="scheduler")
        self.replacement = None
        self.captured = None
        self.unet.mid_block.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        if self.captured is not None:
            self.captured.append(output)
        return output if self.replacement is None else self.replacement

    def embed(self, prompt, n):
        ids = self.tokenizer([prompt], padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids
        return self.text(ids)[0].expand(n, -1, -1)

    @torch.no_grad()
    def sample(self, prompt, n, source=None, seed=0, steps=25, cfg=7.5):
        size = self.unet.config.sample_size
        z = torch.randn(n, self.unet.config.in_channels, size, size, generator=torch.Generator().manual_seed(seed))
        cond, uncond = self.embed(prompt, n), self.embed("", n)
        src = self.embed(source, n) if source else None
        self.scheduler.set_timesteps(steps)
        for t in self.scheduler.timesteps:
            eps_u = self.unet(z, t, encoder_hidden_states=uncond).sample
            if src is not None:
                self.captured = []
                self.unet(z, t, encoder_hidden_states=src)
                self.replacement, self.captured = self.captured[0], None
            eps_c = self.unet(z, t, encoder_hidden_states=cond).sample
            self.replacement = None
            z = self.scheduler.step(eps_u + cfg * (eps_c - eps_u), t, z).prev_sample
        return self.vae.decode(z / self.vae.config.scaling_factor).sample.clamp(-1, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--classifier", required=True)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--min-transfer", type=float, default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    sampler, read = Sampler(args.model), Classifier(args.classifier)
    print("| attribute | target prompt | source prompt | target | swapped | source | transfer |")
    print("|---|---|---|---|---|---|---|")
    failures = []
    for attribute, target, source in CASES:
        shares = [read(sampler.sample(target, args.n, source=s))[attribute] for s in (None, source)]
        shares.append(read(sampler.sample(source, args.n))[attribute])
        base, swapped, direct = shares
        transfer = (swapped - base) / (direct - base) if direct - base > 1e-9 else float("nan")
        print(f"| {attribute} | {target} | {source} | {base:.2f} | {swapped:.2f} | {direct:.2f} | {transfer:.2f} |")
        if direct - base < 0.5:
            failures.append(f"{attribute}: the source prompt itself moves the share only {base:.2f} -> {direct:.2f}")
        elif args.min_transfer is not None and not transfer >= args.min_transfer:
            failures.append(f"{attribute}: transfer {transfer:.2f} < {args.min_transfer}")
    if failures:
        print("\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
