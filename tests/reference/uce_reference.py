"""Closed-form cross-attention edits (the UCE family), re-implemented in Python from the published
procedure (Gandikota et al., "Unified Concept Editing in Diffusion Models", WACV 2024), as the
reference for core/respo/concept_edit.

  uce_reference.py --dir SD_REFERENCE_DIR --out OUT

The procedure, for every cross-attention layer of the UNet (attn2) and both of its text projections
(to_k and to_v, weight W of shape [out, in]):

  mat1 = lambda * W          mat2 = lambda * I
  for every term (key text, value texts with weights, scale s):
      C = the key text's token slice            [T, in]
      V = sum_w w * (the value text's slice)    [T, in]
      mat1 += s * (W V^T) C                     (the values the key should now produce, times the key)
      mat2 += s * C^T C
  W' = mat1 mat2^-1                             (in float64)

A text's slice is its text encoder output (the UNet's context) from the last word token to the end of
the padded sequence; the key and value texts of a term are aligned by their last word tokens, and
the tail that would run past the sequence is cut (T = 77 - the largest last-word index in the term).

Terms: erase a concept toward a destination (key: the concept, value: the destination, scale: the
erase scale); preserve a concept (key and value: the concept, scale: the preserve scale); debias a
concept toward attribute shares (key: the concept, values: the concept plus, per attribute,
strength * share times the attribute text, scale: the erase scale).

Writes OUT/<case>.safetensors (the edited weights, float32, by the UNet's parameter names) and
OUT/uce_cases.json (each case's model and recipe).
"""
import json
import pathlib

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

from reference_args import model_fixture_args
from transformers import CLIPTextModel, CLIPTokenizer

CASES = [
    dict(name="sd1_erase", model="sd1", recipe=dict(
        erase=["violence", "a knife fight"], destination="", preserve=["a person", "a cat", "a doctor"],
        **{"lambda": 0.1}, erase_scale=1.0, preserve_scale=1.0)),
    dict(name="sd1_debias", model="sd1", recipe=dict(
        debias=["a doctor", "a nurse"], attributes=[["a man", 0.5], ["a woman", 0.5]], strength=1.0,
        preserve=["a cat"], **{"lambda": 0.1}, erase_scale=1.0, preserve_scale=1.0)),
    dict(name="sd2_erase", model="sd2", recipe=dict(
        erase=["blood"], destination="a painting", preserve=["a firefighter", "a red apple"],
        **{"lambda": 0.5}, erase_scale=1.0, preserve_scale=0.3)),
    dict(name="sd2_debias", model="sd2", recipe=dict(
        debias=["a pilot"], attributes=[["a man", 30], ["a woman", 70]], strength=2.0,
        erase=["gore"], destination="", **{"lambda": 0.2}, erase_scale=0.8, preserve_scale=1.0)),
]


def last_word_index(tokenizer, text: str) -> int:
    # Tokens of the text with BOS and EOS; the last word token sits just before EOS.
    return len(tokenizer(text, truncation=True, max_length=tokenizer.model_max_length).input_ids) - 2


@torch.no_grad()
def embeddings(tokenizer, encoder, text: str) -> torch.Tensor:
    ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids
    return encoder(ids)[0][0].double()  # [77, in]


def terms(recipe: dict) -> list:
    out = []
    for concept in recipe.get("erase", []):
        out.append((concept, [(recipe.get("destination", ""), 1.0)], recipe["erase_scale"]))
    attributes = recipe.get("attributes", [])
    total = sum(share for _, share in attributes)
    for concept in recipe.get("debias", []):
        values = [(concept, 1.0)] + [(text, recipe["strength"] * share / total) for text, share in attributes]
        out.append((concept, values, recipe["erase_scale"]))
    for concept in recipe.get("preserve", []):
        out.append((concept, [(concept, 1.0)], recipe["preserve_scale"]))
    return out


def slices(tokenizer, encoder, key: str, values: list):
    texts = [key] + [text for text, _ in values]
    last = {text: last_word_index(tokenizer, text) for text in texts}
    farthest = max(last.values())
    length = tokenizer.model_max_length - farthest

    def piece(text):
        return embeddings(tokenizer, encoder, text)[last[text]:last[text] + length]

    key_slice = piece(key)
    value_slice = sum(weight * piece(text) for text, weight in values)
    return key_slice, value_slice


@torch.no_grad()
def edit(folder: pathlib.Path, recipe: dict) -> dict:
    unet = UNet2DConditionModel.from_pretrained(folder / "unet").eval()
    encoder = CLIPTextModel.from_pretrained(folder / "text_encoder").eval()
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    pairs = [slices(tokenizer, encoder, key, values) + (scale,) for key, values, scale in terms(recipe)]
    lam = recipe["lambda"]
    out = {}
    for name, module in sorted(unet.named_modules()):
        if not name.endswith("attn2"):
            continue
        for projection in ("to_k", "to_v"):
            W = getattr(module, projection).weight.double()
            mat1 = lam * W
            mat2 = lam * torch.eye(W.shape[1], dtype=torch.float64)
            for C, V, scale in pairs:
                mat1 = mat1 + scale * (W @ V.T) @ C
                mat2 = mat2 + scale * C.T @ C
            out[f"{name}.{projection}.weight"] = (mat1 @ torch.inverse(mat2)).float().contiguous()
    return out


def main() -> None:
    models, out = model_fixture_args()
    for case in CASES:
        weights = edit(models / case["model"], case["recipe"])
        save_file(weights, str(out / f"{case['name']}.safetensors"))
        print(f"{case['name']}: {len(weights)} edited projections")
    (out / "uce_cases.json").write_text(json.dumps(CASES, indent=1))


if __name__ == "__main__":
    main()
