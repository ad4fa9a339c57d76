"""A real, tiny Argos Translate package, built on the spot without torch or any download.

The package has the layout argospm installs: `metadata.json`, `sentencepiece.model` and a
CTranslate2 Transformer in `model/`. Its weights are not trained but set by hand so the
model does something recognisable and exactly predictable: it "translates" English into
ROT13, piece by piece, and stops where the source stops. That lets tests check that every
sentence came back in its place, not merely that something came back.

How the weights do it (one encoder and one decoder layer, one attention head):
- the model's width is `vocabulary + positions`; the first block of dimensions holds a
  one-hot of the token, the second a one-hot of the position (set as the position table);
- every self-attention and feed-forward weight is zero, so only the residual stream, the
  embeddings and the encoder-decoder attention matter, and no final layer norm is applied;
- target embeddings are zero, so the decoder state at step t is the position one-hot of t;
- the encoder-decoder attention compares position dimensions only, sharply, so step t
  reads source position t, and copies that position's token one-hot into the output;
- the output projection maps token dimension i to target word i, and the target
  vocabulary is the source vocabulary with each piece ROT13-encoded;
- the model's config adds `</s>` after the source, which maps to `</s>`: decoding stops
  right after the last source piece.
Unknown characters come out as `<unk>`, which CTranslate2 replaces by the source piece.
"""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

SOURCE_LANGUAGE = "en"
TARGET_LANGUAGE = "fr"  # a language Debian's Apertium packages do not translate English into
MAX_POSITIONS = 160  # source pieces per sentence the model can read (plus its </s>)

CORPUS = """\
Welcome to the Acme product tour.
Click new project and type a name for it.
Drag your video file onto the upload page.
Open settings and invite your team by email.
Open the Projects page and create a new project.
Each project has its own members and its own videos.
Choose a name for the project, then save it.
Press the button to start the upload.
The video is processed in the background while you work.
You can close the page and come back later.
Invite people to your team from the settings page.
Every chapter has a title, a summary and screenshots.
Subtitles are written for each language you pick.
Export the articles as Markdown when they are ready.
This guide shows how to share a project with your colleagues.
Type the address of the page and press enter.
Select the file, check its name and click save.
The dashboard lists recent jobs with their progress.
If something goes wrong, retry the job or cancel it.
Translations keep the links, the code and the video references.
"""

METADATA = {
    "package_version": "1.0",
    "argos_version": "1.9",
    "from_code": SOURCE_LANGUAGE,
    "from_name": "English",
    "to_code": TARGET_LANGUAGE,
    "to_name": "French",
}
_SPECIAL_PIECES = {"<unk>", "<s>", "</s>"}


def rot13(text: str) -> str:
    """What the tiny model does to text it knows (letters shift by 13, the rest stays)."""
    return codecs.encode(text, "rot13")


def build_argos_package(
    packages_dir: Path,
    name: str = "translate-en_fr-1_0",
    *,
    version: str = "1.0",
    max_positions: int = MAX_POSITIONS,
) -> Path:
    """Build the package in `packages_dir/name` (a folder as argospm installs it) and return it.

    A model with few `max_positions` fails on longer sentences, as a real model fails on
    input it cannot handle.
    """
    import sentencepiece

    package = packages_dir / name
    (package / "model").mkdir(parents=True)
    tokenizer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS.splitlines()),
        model_writer=tokenizer,
        vocab_size=160,
        hard_vocab_limit=False,
        character_coverage=1.0,
        model_type="unigram",
        minloglevel=2,
    )
    (package / "sentencepiece.model").write_bytes(tokenizer.getvalue())
    processor = sentencepiece.SentencePieceProcessor(model_proto=tokenizer.getvalue())
    pieces = [processor.id_to_piece(index) for index in range(processor.get_piece_size())]
    _rot13_transformer(pieces, max_positions).save(str(package / "model"))
    metadata = {**METADATA, "package_version": version}
    (package / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return package


def _rot13_transformer(pieces: list[str], positions: int) -> Any:
    from ctranslate2.specs import transformer_spec

    vocabulary = len(pieces)
    width = vocabulary + positions
    token_strength = 20.0  # logit margin of the right word: softmax gives it ~1 - 1e-7
    position_sharpness = 40.0  # attention logit margin of the matching source position

    spec = transformer_spec.TransformerSpec.from_config(1, 1, no_final_norm=True)
    spec.config.add_source_eos = True

    tokens_block = np.zeros((vocabulary, width), dtype=np.float32)
    tokens_block[:, :vocabulary] = np.eye(vocabulary) * token_strength
    positions_block = np.zeros((positions, width), dtype=np.float32)
    positions_block[:, vocabulary:] = np.eye(positions)
    pick_positions = np.zeros((width, width), dtype=np.float32)
    pick_positions[vocabulary:, vocabulary:] = np.eye(positions)
    pick_tokens = np.zeros((width, width), dtype=np.float32)
    pick_tokens[:vocabulary, :vocabulary] = np.eye(vocabulary)
    # The layer norm before the query turns a position one-hot into about sqrt(width) at
    # its place; scaled so that, after the 1/sqrt(width) attention scaling, the matching
    # key wins by position_sharpness.
    query = pick_positions * position_sharpness

    encoder, decoder = spec.encoder, spec.decoder
    encoder.scale_embeddings = False
    decoder.scale_embeddings = False
    encoder.embeddings[0].weight = tokens_block
    encoder.position_encodings.encodings = positions_block
    decoder.embeddings.weight = np.zeros((vocabulary, width), dtype=np.float32)
    decoder.position_encodings.encodings = positions_block

    _silence(encoder.layer[0].self_attention, width, fused=3)
    _silence_ffn(encoder.layer[0].ffn, width)
    _silence(decoder.layer[0].self_attention, width, fused=3)
    _silence_ffn(decoder.layer[0].ffn, width)
    cross = decoder.layer[0].attention
    _unit_norm(cross.layer_norm, width)
    cross.linear[0].weight = query
    cross.linear[0].bias = np.zeros(width, dtype=np.float32)
    cross.linear[1].weight = np.concatenate([pick_positions, pick_tokens])  # keys, values
    cross.linear[1].bias = np.zeros(2 * width, dtype=np.float32)
    cross.linear[2].weight = pick_tokens
    cross.linear[2].bias = np.zeros(width, dtype=np.float32)

    projection = np.zeros((vocabulary, width), dtype=np.float32)
    projection[:, :vocabulary] = np.eye(vocabulary)
    decoder.projection.weight = projection
    decoder.projection.bias = np.zeros(vocabulary, dtype=np.float32)

    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(
        [piece if piece in _SPECIAL_PIECES else rot13(piece) for piece in pieces]
    )
    spec.validate()
    return spec


def _unit_norm(norm: Any, width: int) -> None:
    norm.gamma = np.ones(width, dtype=np.float32)
    norm.beta = np.zeros(width, dtype=np.float32)


def _silence(attention: Any, width: int, fused: int) -> None:
    """Self-attention whose output is zero: only the residual stream goes through."""
    _unit_norm(attention.layer_norm, width)
    attention.linear[0].weight = np.zeros((fused * width, width), dtype=np.float32)
    attention.linear[0].bias = np.zeros(fused * width, dtype=np.float32)
    attention.linear[1].weight = np.zeros((width, width), dtype=np.float32)
    attention.linear[1].bias = np.zeros(width, dtype=np.float32)


def _silence_ffn(ffn: Any, width: int) -> None:
    hidden = 4
    _unit_norm(ffn.layer_norm, width)
    ffn.linear_0.weight = np.zeros((hidden, width), dtype=np.float32)
    ffn.linear_0.bias = np.zeros(hidden, dtype=np.float32)
    ffn.linear_1.weight = np.zeros((width, hidden), dtype=np.float32)
    ffn.linear_1.bias = np.zeros(width, dtype=np.float32)
