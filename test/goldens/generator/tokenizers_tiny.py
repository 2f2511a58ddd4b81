"""The tokenizers, trained on corpus.txt: CLIP's byte-level BPE (with a small
deterministic trainer) and T5's SentencePiece unigram model."""

from __future__ import annotations

import io
import json
from pathlib import Path

from .common import CLIP_VOCAB, CORPUS, T5_VOCAB

CLIP_SPLIT_RE = (
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """The GPT-2/CLIP byte -> printable unicode character table (same order as CLIP)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def corpus_lines() -> list[str]:
    return [l.strip() for l in CORPUS.read_text(encoding="utf-8").splitlines() if l.strip()]


def clip_pre_tokenizer():
    """The normalizer + pre-tokenizer of CLIP's tokenizer (same as transformers' CLIPTokenizer)."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT_RE), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    return tok


def train_bpe_merges(words: dict[tuple[str, ...], int], n_merges: int) -> list[tuple[str, str]]:
    """Plain BPE training (Sennrich et al.): repeatedly merge the most frequent adjacent
    symbol pair. Ties are broken by the pair's lexicographic order so that the result is
    fully deterministic (the `tokenizers` BpeTrainer breaks ties by hash order, which
    changes from run to run)."""
    words = {w: c for w, c in words.items()}
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        counts: dict[tuple[str, str], int] = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + c
        if not counts:
            break
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        a, b = best
        new_words: dict[tuple[str, ...], int] = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            t = tuple(out)
            new_words[t] = new_words.get(t, 0) + c
        words = new_words
    return merges


def build_clip_tokenizer_files(out_dir: Path) -> None:
    """Train a byte-level BPE on the corpus and write vocab.json + merges.txt in
    the exact layout of openai/clip-vit-large-patch14's tokenizer:

      ids 0..255     the 256 byte characters (bytes_to_unicode order)
      ids 256..511   the same characters with the "</w>" end-of-word suffix
      ids 512..      one token per merge, in merge order
      last two ids   <|startoftext|>, <|endoftext|>
    """
    pre = clip_pre_tokenizer()
    words: dict[tuple[str, ...], int] = {}
    for line in corpus_lines():
        for word, _ in pre.pre_tokenizer.pre_tokenize_str(pre.normalizer.normalize_str(line)):
            sym = tuple(word[:-1]) + (word[-1] + "</w>",)
            words[sym] = words.get(sym, 0) + 1

    base = list(bytes_to_unicode().values())
    vocab_list = base + [b + "</w>" for b in base]
    n_merges = CLIP_VOCAB - len(vocab_list) - 2
    merges = train_bpe_merges(words, n_merges)
    assert len(merges) == n_merges, f"corpus only yields {len(merges)} merges, need {n_merges}"
    known = set(vocab_list)
    for a, b in merges:
        assert a in known and b in known, (a, b)
        assert a + b not in known, (a, b)
        vocab_list.append(a + b)
        known.add(a + b)
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab_list) == len(set(vocab_list)) == CLIP_VOCAB

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = {t: i for i, t in enumerate(vocab_list)}
    (out_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(out_dir / "merges.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


def build_t5_spiece(out_path: Path) -> None:
    """Train a SentencePiece unigram model with T5's id conventions
    (pad=0 <pad>, eos=1 </s>, unk=2 <unk>, no bos, no byte fallback, nmt_nfkc)."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_lines()),
        model_writer=buf,
        vocab_size=T5_VOCAB,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        byte_fallback=False,
        num_threads=1,
        minloglevel=2,
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(buf.getvalue())


def make_tokenizers(tmp: Path):
    from transformers import CLIPTokenizer, T5TokenizerFast

    clip_dir = tmp / "clip_tok_src"
    build_clip_tokenizer_files(clip_dir)
    # Load through the same path Kiln's users take: a folder with vocab.json + merges.txt.
    clip_tok = CLIPTokenizer.from_pretrained(str(clip_dir), model_max_length=77)
    assert len(clip_tok) == CLIP_VOCAB, len(clip_tok)

    t5_dir = tmp / "t5_tok_src"
    build_t5_spiece(t5_dir / "spiece.model")
    t5_tok = T5TokenizerFast.from_pretrained(str(t5_dir), extra_ids=0, model_max_length=512, legacy=True)
    assert len(t5_tok) == T5_VOCAB, len(t5_tok)
    return clip_tok, t5_tok, clip_dir, t5_dir
