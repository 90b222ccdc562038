"""Random-weight CLIP models (transformers' CLIPModel) and their outputs, for the C++ parity test.

  clip_reference.py OUT

For two small configs (quick_gelu with the legacy end-token id, and gelu with the newer one) it
writes a transformers folder OUT/<name>/ and OUT/<name>_expect.safetensors with the inputs (pixel
values, token ids, raw images) and the outputs: the image tower's last hidden state, pooled output and
image embeds; the text tower's pooled output and text embeds; logits_per_image; and the image
processor's pixel values for raw images (bicubic resize, centre crop, normalisation).
"""
import argparse
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

CONFIGS = {
    "clip_quick": dict(
        text=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                  vocab_size=49408, max_position_embeddings=77, hidden_act="quick_gelu", eos_token_id=2),
        vision=dict(hidden_size=48, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                    image_size=32, patch_size=8, hidden_act="quick_gelu"),
        projection_dim=24),
    "clip_gelu": dict(
        text=dict(hidden_size=48, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                  vocab_size=49408, max_position_embeddings=77, hidden_act="gelu", eos_token_id=49407),
        vision=dict(hidden_size=32, intermediate_size=40, num_hidden_layers=3, num_attention_heads=2,
                    image_size=48, patch_size=16, hidden_act="gelu"),
        projection_dim=16),
}


def randomize(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            if name == "logit_scale":
                p.fill_(2.6592)
                continue
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 / max(1.0, p[0].numel() ** 0.5)) + (
                1.0 if p.dim() == 1 and "norm" in name and name.endswith("weight") else 0.0))


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    out = pathlib.Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    for seed, (name, cfg) in enumerate(CONFIGS.items()):
        config = CLIPConfig(text_config=cfg["text"], vision_config=cfg["vision"], projection_dim=cfg["projection_dim"])
        model = CLIPModel(config).eval()
        randomize(model, 100 + seed)
        model.save_pretrained(out / name, safe_serialization=True)
        size = cfg["vision"]["image_size"]
        processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
        processor.save_pretrained(out / name)

        g = torch.Generator().manual_seed(seed)
        pixels = torch.randn(3, 3, size, size, generator=g)
        ids = torch.randint(0, 49406, (2, 77), generator=g)
        ids[:, 0] = 49406
        ids[0, 9:] = 49407
        ids[1, 30:] = 49407
        vision = model.vision_model(pixel_values=pixels)
        text = model.text_model(input_ids=ids)
        result = model(input_ids=ids, pixel_values=pixels)
        # Raw images (values in [0, 1], not square) through the image processor.
        raw = torch.rand(2, 3, size + 13, size * 2, generator=g)
        as_uint8 = [np.ascontiguousarray((r.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)) for r in raw]
        processed = processor(images=as_uint8, return_tensors="pt")["pixel_values"]
        save_file({
            "pixels": pixels.contiguous(), "input_ids": ids.contiguous(),
            "vision.last_hidden_state": vision.last_hidden_state.contiguous(),
            "vision.pooled": vision.pooler_output.contiguous(),
            "image_embeds": model.visual_projection(vision.pooler_output).contiguous(),
            "text.pooled": text.pooler_output.contiguous(),
            "text_embeds": model.text_projection(text.pooler_output).contiguous(),
            "logits_per_image": result.logits_per_image.contiguous(),
            "raw_images": (torch.tensor(np.stack(as_uint8)).permute(0, 3, 1, 2).float() / 255).contiguous(),
            "processed": processed.contiguous(),
        }, str(out / f"{name}_expect.safetensors"))
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
