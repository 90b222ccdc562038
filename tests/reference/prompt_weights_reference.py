"""Expected prompt-weighting results, from a re-implementation of A1111's emphasis rules in Python.

Written from reading stable-diffusion-webui (modules/prompt_parser.py: parse_prompt_attention;
modules/sd_hijack_clip.py: tokenize_line, comma backtracking of 20 tokens, BREAK, 75-token
chunks; SD2 padding after the first end token), with Python's own `re` for the Unicode rules of
BREAK (\\b, \\s). For a corpus of weighted prompts (nesting, escapes, unclosed brackets, BREAK,
prompts over 75 tokens) it writes the runs (text, weight) and, for the sd1/ and sd2/ tokenizer
folders of the tokenizer fixture, the token chunks and their weights: cases.json, which the C++
parity test reads.
"""
import argparse
import json
import pathlib
import random
import re


# One token of the emphasis syntax per match, tried in this order.
TOKEN = re.compile(r"""
    \\[()\[\]\\]        # an escaped bracket or backslash
  | \\                  # a lone backslash (vanishes)
  | [(\[]               # an opening bracket
  | :([+-]?[.\d]+)\)    # ':<weight>)' closing a round bracket
  | [)\]]               # a closing bracket
  | [^\\()\[\]:]+       # plain text
  | :                   # a colon that is text
""", re.X)
BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)
UP, DOWN = 1.1, 1 / 1.1


class WeightError(ValueError):
    pass


def parse(prompt):
    runs = []          # [text, weight]
    open_round, open_square = [], []

    def scale(start, factor):
        for run in runs[start:]:
            run[1] *= factor

    def add_text(text):
        for i, part in enumerate(BREAK.split(text)):
            if i:
                runs.append(["BREAK", -1.0])
            runs.append([part, 1.0])

    for m in TOKEN.finditer(prompt):
        token, weight = m.group(0), m.group(1)
        if token[0] == "\\":
            runs.append([token[1:], 1.0])
        elif token == "(":
            open_round.append(len(runs))
        elif token == "[":
            open_square.append(len(runs))
        elif weight is not None and open_round:
            try:
                value = float(weight)
            except ValueError as e:
                raise WeightError(str(e))
            scale(open_round.pop(), value)
        elif token == ")" and open_round:
            scale(open_round.pop(), UP)
        elif token == "]" and open_square:
            scale(open_square.pop(), DOWN)
        else:
            add_text(token)
    for start in open_round:
        scale(start, UP)
    for start in open_square:
        scale(start, DOWN)
    if not runs:
        runs = [["", 1.0]]
    merged = [runs[0]]
    for run in runs[1:]:
        if run[1] == merged[-1][1]:
            merged[-1][0] += run[0]
        else:
            merged.append(run)
    return merged


def chunk(tokenizer, runs, backtrack=20, length=75):
    start, end = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id
    comma = tokenizer.get_vocab().get(",</w>")
    chunks, weights = [], []
    state = {"tokens": [], "weights": [], "count": 0, "comma": -1}

    def close(last=False):
        t, w = state["tokens"], state["weights"]
        state["count"] += len(t) if last else length
        t = t + [end] * (length - len(t))
        w = w + [1.0] * (length - len(w))
        t = [start] + t + [end]
        w = [1.0] + w + [1.0]
        if pad != end:
            first = t.index(end)
            t = t[:first + 1] + [pad] * (len(t) - first - 1)
        chunks.append(t)
        weights.append(w)
        state["tokens"], state["weights"], state["comma"] = [], [], -1

    ids = tokenizer([text for text, _ in runs], truncation=False, add_special_tokens=False)["input_ids"]
    for tokens, (text, weight) in zip(ids, runs):
        if text == "BREAK" and weight == -1:
            close()
            continue
        for token in tokens:
            n = len(state["tokens"])
            if token == comma:
                state["comma"] = n
            elif backtrack and n == length and state["comma"] != -1 and n - state["comma"] <= backtrack:
                cut = state["comma"] + 1
                moved_t, moved_w = state["tokens"][cut:], state["weights"][cut:]
                state["tokens"], state["weights"] = state["tokens"][:cut], state["weights"][:cut]
                close()
                state["tokens"], state["weights"] = moved_t, moved_w
            if len(state["tokens"]) == length:
                close()
            state["tokens"].append(token)
            state["weights"].append(weight)
    if state["tokens"] or not chunks:
        close(last=True)
    return {"chunks": chunks, "weights": weights, "token_count": state["count"]}


WORDS = ("a photo of the doctor nurse firefighter chef pilot teacher person woman man portrait city night "
         "red blue oil painting highly detailed cinematic lighting masterpiece best quality").split()
PIECES = ["(", ")", "[", "]", "\\(", "\\)", "\\[", "\\]", "\\\\", "\\", ":", ":1.3)", ":0.5)", ":2)", ":-1)",
          ":+1.5)", ":.5)", ":1.)", ":1.2.3)", ":.)", "BREAK", " BREAK ", "BREAKfast", "xBREAK", ", ", ",", "  ",
          "café", "naïve", "東京", "Москва", "😀", "\u00a0BREAK\u00a0", "\tBREAK\n", "_BREAK", "BREAK_"]


def corpus(count, seed=11):
    rng = random.Random(seed)
    prompts = [
        "", "normal text", "an (important) word", "(unbalanced", "\\(literal\\]", "(unnecessary)(parens)",
        "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", "[[[x]]]", "((a:1.5) b:0.5)", "(a:2",
        "a :1.2) b", "x ) y ] z", "a BREAK b", "BREAK", "a BREAK", "BREAK a", "a BREAK BREAK b",
        "(a BREAK b)", "[a BREAK b]", "a\\BREAK b", "aBREAK b", "a BREAKb", "a\u00a0BREAK\u00a0b",
        "(word:1.2.3)", "(word:.)", "(word:+2.5)", "(word:-0.5)", "(word:1e3)", "\\", "\\\\", "\\x",
        "(a)(b)[c][d]", "((((((((((deep))))))))))", "[[[[[[[[[[deep]]]]]]]]]]", ":", "(:1.1)",
        ", ".join(["a red apple"] * 30), "(" + ", ".join(["word"] * 60) + ":1.2)", " ".join(["word"] * 200),
        ", ".join(WORDS) + " BREAK " + ", ".join(reversed(WORDS)),
        "(masterpiece:1.2), best quality, [blurry], (a woman:1.1) standing in a (city:0.8) at night",
    ]
    while len(prompts) < count:
        parts = []
        for _ in range(rng.choice([1, 3, 6, 12, 25, 60, 120])):
            parts.append(rng.choice(PIECES) if rng.random() < 0.35 else rng.choice(WORDS))
            if rng.random() < 0.6:
                parts.append(" ")
        prompts.append("".join(parts))
    return prompts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", required=True, help="the tokenizer fixture folder (sd1/, sd2/)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=240)
    args = ap.parse_args()
    from transformers import CLIPTokenizer  # here, so that parse() needs only the standard library

    tokenizers = {name: CLIPTokenizer.from_pretrained(pathlib.Path(args.tokenizers) / name) for name in ("sd1", "sd2")}
    cases = []
    for prompt in corpus(args.count):
        case = {"prompt": prompt}
        try:
            runs = parse(prompt)
        except WeightError:
            case["error"] = "not a number"
            cases.append(case)
            continue
        case["runs"] = runs
        for name, tokenizer in tokenizers.items():
            result = chunk(tokenizer, runs)
            if len(result["chunks"]) > 16:
                case[name] = {"error": "more than 16 chunks"}
            else:
                case[name] = result
        cases.append(case)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cases.json").write_text(json.dumps(cases, ensure_ascii=False))
    print(f"{len(cases)} prompts, {sum('error' in c for c in cases)} refused")


if __name__ == "__main__":
    main()
