"""Expected weighted-prompt conditioning: A1111's emphasis on transformers' text encoders.

For each model folder (SD1 and SD2: CLIPTextModel's last hidden state; SDXL: hidden_states[-2] of
both encoders side by side, the pooled embedding from encoder 2's first chunk) and each prompt of
the weighting corpus (cases.json of prompt_weights_reference.py), every 75-token chunk is encoded,
each token's vector multiplied by its weight and the chunk's mean restored (A1111's "Original"
emphasis: float64 weights, the mean taken before weighting), and the chunks joined along the token
axis. Writes conditioning_<name>.safetensors with "context.<i>" (and "pooled.<i>") per prompt index.
"""
import argparse
import json
import pathlib
import sys

import torch
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from prompt_weights_reference import WeightError, chunk, parse  # noqa: E402


def emphasize(z, weights):
    """A1111's Original emphasis on one chunk's hidden states z [1, 77, C]."""
    if all(w == 1.0 for w in weights):
        return z.double()
    multipliers = torch.asarray([weights], dtype=torch.float64)
    original = z.mean()
    weighted = z * multipliers.reshape(multipliers.shape + (1,)).expand(z.shape)
    return weighted * (original / weighted.mean())


@torch.no_grad()
def encode(tokenizer, encoder, runs, hidden):
    tokens = chunk(tokenizer, runs)
    parts, pooled = [], None
    for i, (ids, weights) in enumerate(zip(tokens["chunks"], tokens["weights"])):
        out = encoder(torch.tensor([ids]), output_hidden_states=True)
        z = out.last_hidden_state if hidden == "last" else out.hidden_states[-2]
        parts.append(emphasize(z, weights))
        if i == 0 and hasattr(out, "text_embeds"):
            pooled = out.text_embeds
    return torch.cat(parts, dim=1), pooled


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--model", action="append", required=True, help="name=folder (sd1, sd2: one encoder; sdxl: two)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cases = json.loads(pathlib.Path(args.cases).read_text())
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for spec in args.model:
        name, folder = spec.split("=", 1)
        folder = pathlib.Path(folder)
        xl = (folder / "text_encoder_2").is_dir()
        encoders = [(CLIPTokenizer.from_pretrained(folder / "tokenizer"),
                     CLIPTextModel.from_pretrained(folder / "text_encoder").eval(), "penultimate" if xl else "last")]
        if xl:
            encoders.append((CLIPTokenizer.from_pretrained(folder / "tokenizer_2"),
                             CLIPTextModelWithProjection.from_pretrained(folder / "text_encoder_2").eval(), "penultimate"))
        tensors, count = {}, 0
        for index, case in enumerate(cases):
            try:
                runs = parse(case["prompt"])
            except WeightError:
                continue
            if len(chunk(encoders[0][0], runs)["chunks"]) > 16:
                continue
            contexts, pooled = [], None
            for tokenizer, encoder, hidden in encoders:
                context, p = encode(tokenizer, encoder, runs, hidden)
                contexts.append(context)
                pooled = p if p is not None else pooled
            tensors[f"context.{index}"] = torch.cat(contexts, dim=-1).float().contiguous()
            if xl:
                tensors[f"pooled.{index}"] = pooled.float().contiguous()
            count += 1
        save_file(tensors, str(out / f"conditioning_{name}.safetensors"))
        print(f"{name}: {count} prompts")


if __name__ == "__main__":
    main()
