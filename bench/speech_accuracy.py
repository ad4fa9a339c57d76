"""Offline speech recognition: word error rate and speed, default settings beside Reeldocs'.

Read English spoken by festival's HTS voice (tests/support/read_speech.py), one
sentence per utterance, decoded in this process on one core by pocketsphinx with
its default search and with the narrower one Reeldocs uses (DECODER_SETTINGS).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.common import ROOT

sys.path.insert(0, str(ROOT / "tests"))


def _decode_all(settings: dict[str, Any], audio: list[Any]) -> tuple[list[str], float]:
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL", **settings)
    texts = []
    started = time.process_time()
    for samples in audio:
        decoder.start_utt()
        decoder.process_raw(samples.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        texts.append(hypothesis.hypstr if hypothesis else "")
    return texts, time.process_time() - started


def run() -> dict[str, Any]:
    from support import read_speech

    from reeldocs.providers.offline.speech import DECODER_SETTINGS

    if not read_speech.available():
        return {"skipped": "festival with festvox-us-slt-hts is not installed"}
    audio = [read_speech.speak(sentence) for sentence in read_speech.SENTENCES]
    seconds = sum(len(a) for a in audio) / read_speech.SAMPLE_RATE
    reference = [read_speech.words(s) for s in read_speech.SENTENCES]
    total_words = sum(len(r) for r in reference)
    results: dict[str, Any] = {"audio_seconds": round(seconds, 1), "words": total_words}
    for name, settings in (("pocketsphinx_defaults", {}), ("reeldocs", DECODER_SETTINGS)):
        texts, cpu = _decode_all(settings, audio)
        errors = sum(
            read_speech.word_errors(ref, read_speech.words(text))
            for ref, text in zip(reference, texts, strict=True)
        )
        results[name] = {
            "word_error_rate": round(errors / total_words, 3),
            "cpu_seconds": round(cpu, 2),
            "real_time_factor": round(cpu / seconds, 3),
        }
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
