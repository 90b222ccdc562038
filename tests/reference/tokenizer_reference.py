"""Expected CLIP token ids from transformers' CLIPTokenizer (and open_clip's tokenizer).

Builds two tokenizer folders from the BPE vocabulary that open_clip ships: `sd1/` (pads with
<|endoftext|>, as SD1.x does) and `sd2/` (pads with "!", id 0, as SD2.x/SDXL's OpenCLIP tokenizer
does), then tokenizes a deterministic corpus of varied prompts with padding to 77 and truncation.
Writes cases.json for the C++ parity test.
"""
import argparse
import json
import pathlib
import random
import shutil

import open_clip.tokenizer as oct
from transformers import CLIPTokenizer

WORDS = ("a photo of the doctor nurse firefighter chef pilot teacher person man woman portrait "
         "successful construction worker police officer standing smiling city night red blue green "
         "painting oil canvas trending artstation highly detailed 4k octane render cinematic lighting "
         "don't it's they're we've I'm you'll she'd BOLD MiXeD Case Hello WORLD").split()
UNICODE = ["café", "naïve", "résumé", "Ångström", "São Paulo", "Zürich", "Ελληνικά", "ΣΊΣΥΦΟΣ", "Σίσυφος",
           "İstanbul", "straße", "ẞ", "ǅungla", "Москва", "東京タワー", "한국어", "مرحبا", "नमस्ते", "ภาษาไทย",
           "e\u0301cole", "A\u030angstrom", "ﬁne", "ＡＢＣ ｄｅｆ", "ŉ", "Ǆ", "Ὀδυσσεύς", "ΑΣ", "ꭰꭱ", "ǰ"]
EMOJI = ["😀", "👩‍🚀", "🏳️‍🌈", "🇫🇷", "👍🏽", "❤️", "🤖🎨", "✨✨", "☕"]
PUNCT = ["!", "!!!", "...", "—", "“quoted”", "'s", "'LL", "(a)", "#hashtag", "@user", "$100", "50%",
         "C++", "a/b", "--", "__init__", "[[x]]", "{y}", "\"", "'", "''", "'re'", "<|endoftext|>",
         "<|startoftext|>", "<|ENDOFTEXT|>", "&amp;", "&lt;b&gt;", "<b>", "~`^", "¿qué?", "«»", "…", "•"]
NUMBERS = ["123", "3.14", "1,000", "²", "½", "٣٤", "Ⅻ", "007", "1e10", "2024-06-01", "⑤", "𝟗"]
SPACES = ["  ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\u2028", "\x85", "\x1c", "\ufeff",
          "\u180e", " \n\t ", "\r\n", "\x0b", "\x0c"]
CONTROL = ["\x00", "\x07", "\x7f", "\u0301", "\u200d", "\ue000"]


def corpus(count: int, seed: int = 7) -> list:
    rng = random.Random(seed)
    prompts = ["", " ", "   \t\n ", "a photo of a doctor", "Photo of doctor", "a woman", "a man",
               "A PHOTO OF A DOCTOR!!!", "<|startoftext|>a cat<|endoftext|>", "hello!", "!",
               " ".join(["word"] * 100), " ".join(rng.choice(WORDS) for _ in range(90))]
    pools = [WORDS] * 6 + [UNICODE, EMOJI, PUNCT, NUMBERS]
    while len(prompts) < count:
        parts = []
        for _ in range(rng.choice([1, 2, 3, 5, 8, 12, 20, 40, 80])):
            token = rng.choice(rng.choice(pools))
            if rng.random() < 0.15:
                token = token.upper() if rng.random() < 0.5 else token.capitalize()
            parts.append(token)
            roll = rng.random()
            if roll < 0.70:
                parts.append(" ")
            elif roll < 0.80:
                parts.append(rng.choice(SPACES))
            elif roll < 0.83:
                parts.append(rng.choice(CONTROL))
            # else: glue the next token on directly
        text = "".join(parts)
        if rng.random() < 0.1:
            text = "  " + text + "  "
        prompts.append(text)
    return prompts


def clip_vocab(bpe: str):
    """(vocab, merges) of the CLIP BPE file that open_clip ships, with transformers' token names."""
    reference = oct.SimpleTokenizer(bpe_path=bpe)
    rename = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {rename.get(token, token): index for token, index in reference.encoder.items()}
    merges = [pair for pair, _ in sorted(reference.bpe_ranks.items(), key=lambda kv: kv[1])]
    return vocab, merges


def write_folder(folder: pathlib.Path, vocab: dict, merges: list, pad: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n",
                                       encoding="utf-8")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
               "pad_token": pad}
    (folder / "special_tokens_map.json").write_text(json.dumps(special), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(dict(special, model_max_length=77, do_lower_case=True, tokenizer_class="CLIPTokenizer")),
        encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=2400)
    args = ap.parse_args()
    out = pathlib.Path(args.out)

    reference = oct.SimpleTokenizer(bpe_path=args.bpe)
    vocab, merges = clip_vocab(args.bpe)

    prompts = corpus(args.count)
    cases = {"prompts": prompts}
    for name, pad in (("sd1", "<|endoftext|>"), ("sd2", "!")):
        write_folder(out / name, vocab, merges, pad)
        tokenizer = CLIPTokenizer.from_pretrained(str(out / name))
        encoded = tokenizer(prompts, padding="max_length", max_length=77, truncation=True)
        cases[name] = {"pad_token": pad, "ids": encoded["input_ids"], "mask": encoded["attention_mask"]}
        # The same tokenizer as transformers 5 saves it: tokenizer.json (the fast-tokenizer file)
        # and tokenizer_config.json, without vocab.json and merges.txt; read back and encoded again.
        saved = out / f"{name}_json"
        shutil.rmtree(saved, ignore_errors=True)
        tokenizer.save_pretrained(str(saved))
        for legacy in ("vocab.json", "merges.txt", "special_tokens_map.json"):
            (saved / legacy).unlink(missing_ok=True)
        assert (saved / "tokenizer.json").exists(), "transformers wrote no tokenizer.json"
        again = CLIPTokenizer.from_pretrained(str(saved))
        encoded = again(prompts, padding="max_length", max_length=77, truncation=True)
        cases[f"{name}_json"] = {"pad_token": pad, "ids": encoded["input_ids"], "mask": encoded["attention_mask"]}

    # open_clip's own tokenizer cleans text with ftfy and html unescaping first and knows no
    # <|...|> tags, and diffusers' SD2 tokenizer treats its pad token "!" as special; compare on
    # prompts where none of that applies: printable ASCII words, numbers and punctuation (ftfy
    # would also drop control characters).
    rng = random.Random(11)
    extra = [" ".join(rng.choice(WORDS + NUMBERS[:4] + PUNCT[3:22]) for _ in range(rng.randint(1, 60)))
             for _ in range(400)]
    plain = [p for p in prompts + extra
             if p.isascii() and p.isprintable() and "&" not in p and "<|" not in p and "!" not in p and p == " ".join(p.split())]
    cases["open_clip"] = {"prompts": plain, "ids": reference(plain, context_length=77).tolist()}
    (out / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    print(f"{len(prompts)} prompts, {len(plain)} also checked against open_clip")


if __name__ == "__main__":
    main()
