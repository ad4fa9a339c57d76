"""Read English spoken by festival's HTS voice: synthetic, but recognisable.

Festival's `cmu_us_slt_arctic_hts` voice is recognised about as well as clean read
speech, which makes word-level checks of the offline recogniser possible without
recordings. (Whisper also hears espeak-ng's robotic voice well; older recognisers
such as pocketsphinx got 8 or 9 of its words in 10 wrong.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

VOICE = "(voice_cmu_us_slt_arctic_hts)"
SAMPLE_RATE = 16000

SENTENCES = [
    "Welcome to the product tour. In this video we will create a new project.",
    "First open the dashboard and click the new project button in the top right corner.",
    "Type a name for the project and press save. The project now appears in the list.",
    "Next open the project and choose upload video.",
    "Give the video a title that your team will recognise, then choose the languages you want.",
    "Press the upload button and wait while the file is sent.",
    "When the job is done, open the documentation tab to read the chapters and the articles.",
    "To change your password open the account menu and choose security.",
    "You can invite colleagues from the settings page by typing their email address.",
    "Viewers can read everything but they cannot upload or change anything.",
    "If a job fails the error message explains what went wrong.",
    "Press retry to start the job again from where it stopped.",
    "The export button creates a zip file with all the articles and screenshots.",
    "Thank you for watching and enjoy writing your documentation.",
]


def available() -> bool:
    if shutil.which("text2wave") is None:
        return False
    probe = subprocess.run(
        ["text2wave", "-eval", VOICE, "-o", "/dev/null"],
        input="test",
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and "not found" not in (probe.stdout + probe.stderr).lower()


def speak(sentence: str) -> np.ndarray:
    """16 kHz mono int16 samples of the sentence."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sentence.wav"
        subprocess.run(
            ["text2wave", "-eval", VOICE, "-o", str(path)],
            input=sentence,
            text=True,
            check=True,
            capture_output=True,
        )
        with av.open(str(path)) as container:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            chunks = [
                out.to_ndarray().reshape(-1)
                for frame in container.decode(audio=0)
                for out in resampler.resample(frame)
            ]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Edit distance in words (substitutions, insertions, deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]
