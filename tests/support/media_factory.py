"""Real media files for tests, made on the spot with Pillow, PyAV and espeak-ng.

Everything here is deterministic for the same arguments and fast enough to call
from any test: a 20 s 320x180 slide video with speech takes about a second.
The container follows the file suffix (.mp4, .mov, .mkv, .webm).

Good videos: make_slide_video (the workhorse), make_product_tour (titled slides with bullet
lines, light and dark, and speech per slide), make_static_video, make_fading_video,
make_scrolling_video, make_slides_with_webcam_bubble.
Bad inputs: make_empty, make_text_file, make_audio_only, make_truncated_copy,
make_undecodable_copy, make_raw_h264 (no container, so no length).
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream
from PIL import Image, ImageDraw, ImageFont

SPEECH_RATE = 22050  # what espeak-ng writes
BACKGROUND = (244, 244, 238)
INK = (30, 34, 40)

_VIDEO_ENCODERS = {"h264": "libx264", "vp9": "libvpx-vp9", "mpeg4": "mpeg4"}
_CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


# -- building blocks -------------------------------------------------------------------------


def render_slide(text: str, size: tuple[int, int]) -> Image.Image:
    """Dark text, wrapped and centred, on a plain light background: nothing else changes."""
    width, height = size
    image = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(10, height // 8))
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width * 0.85:
            lines[-1] = candidate
        else:
            lines.append(word)
    draw.multiline_text(
        (width / 2, height / 2), "\n".join(lines), font=font, fill=INK, anchor="mm", align="center"
    )
    return image


@dataclass(frozen=True)
class SlideTheme:
    background: tuple[int, int, int]
    title_ink: tuple[int, int, int]
    body_ink: tuple[int, int, int]


LIGHT_THEME = SlideTheme(BACKGROUND, INK, (62, 66, 76))
# Light text on a dark background, as many presentation templates and dark-mode apps show.
DARK_THEME = SlideTheme((28, 32, 44), (246, 246, 240), (206, 211, 220))


@dataclass(frozen=True)
class TitledSlide:
    """A slide as presenters build them: a large title at the top, a few bullet lines below."""

    title: str
    bullets: tuple[str, ...] = ()
    dark: bool = False
    # "1." "2." … before the bullet lines instead of round dots
    numbered: bool = False
    # what the presenter says while the slide is shown
    speech: str = ""


# DejaVu Sans (Debian's fonts-dejavu-core) is a common interface and slide typeface. Pillow's
# bundled font, used when it is missing, sets words so tightly that Tesseract reads some
# pairs as one word ("a name" as "aname").
_SLIDE_FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}


def _slide_font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(_SLIDE_FONT_FILES[bold], size)
    except OSError:
        return ImageFont.load_default(size=size)


def render_titled_slide(slide: TitledSlide, size: tuple[int, int]) -> Image.Image:
    """The title in bold at the top left, each bullet line below it after a dot or a number."""
    width, height = size
    theme = DARK_THEME if slide.dark else LIGHT_THEME
    image = Image.new("RGB", size, theme.background)
    draw = ImageDraw.Draw(image)
    title_font = _slide_font(max(12, height // 11), bold=True)
    body_size = max(9, height // 22)
    body_font = _slide_font(body_size, bold=False)
    left = round(width * 0.07)
    draw.text((left, round(height * 0.09)), slide.title, font=title_font, fill=theme.title_ink)
    indent = left + round(body_size * 1.4)
    for index, line in enumerate(slide.bullets):
        top = round(height * (0.33 + 0.11 * index))
        if slide.numbered:
            draw.text((left, top), f"{index + 1}.", font=body_font, fill=theme.body_ink)
        else:
            radius = body_size * 0.16
            middle_x, middle_y = left + radius * 2, top + body_size * 0.62
            draw.ellipse(
                (middle_x - radius, middle_y - radius, middle_x + radius, middle_y + radius),
                fill=theme.body_ink,
            )
        draw.text((indent, top), line, font=body_font, fill=theme.body_ink)
    return image


def render_textless_pictures(size: tuple[int, int]) -> dict[str, Image.Image]:
    """Pictures with no text in them that OCR may still read "words" from: gradients, a
    blurred photo-like picture, fine noise, and rows of icons on light and dark."""
    width, height = size
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    gradient = np.stack([ramp, ramp[:, ::-1], np.full_like(ramp, 90)], -1).astype(np.uint8)
    blobs = rng.integers(0, 255, (max(1, height // 16), max(1, width // 16), 3), dtype=np.uint8)
    photo = Image.fromarray(blobs).resize(size, Image.Resampling.BICUBIC)
    icons = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(icons)
    step = max(1, (width - 80) // 12)
    for index in range(12):
        x, y = 40 + index * step, height // 10
        box = (x, y, x + 40, y + 40)
        if index % 3 == 0:
            draw.ellipse(box, outline=(20, 20, 20), width=4)
        elif index % 3 == 1:
            draw.rectangle(box, outline=(20, 20, 20), width=4)
        else:
            draw.polygon([(x, y + 40), (x + 20, y), (x + 40, y + 40)], outline=(20, 20, 20))
    for _ in range(30):
        x, y = int(rng.integers(0, width - 60)), int(rng.integers(height // 4, height - 60))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.rectangle((x, y, x + int(rng.integers(10, 60)), y + int(rng.integers(5, 60))), colour)
    dark_icons = Image.new("RGB", size, DARK_THEME.background)
    draw = ImageDraw.Draw(dark_icons)
    for _ in range(40):
        x, y = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 60))
        radius = int(rng.integers(6, 40))
        draw.ellipse((x, y, x + radius, y + radius), outline=(220, 220, 220), width=3)
        draw.line((x, y, x + 2 * radius, y + radius), fill=(200, 210, 230), width=2)
    return {
        "gradient": Image.fromarray(gradient),
        "photo": photo,
        "noise": Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)),
        "icons": icons,
        "dark icons": dark_icons,
    }


def speak(phrase: str) -> np.ndarray:
    """The phrase spoken by espeak-ng, as mono int16 samples at SPEECH_RATE."""
    return _speak_all([phrase])[0]


def _speak_all(phrases: Sequence[str]) -> list[np.ndarray]:
    # One espeak-ng process per phrase, all started at once: it is the slow part.
    with tempfile.TemporaryDirectory(prefix="reeldocs-speech-") as tmp:
        wav_paths = [Path(tmp) / f"phrase{index}.wav" for index in range(len(phrases))]
        processes = [
            subprocess.Popen(
                ["espeak-ng", "-w", str(wav_path), "-s", "150", phrase],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for wav_path, phrase in zip(wav_paths, phrases, strict=True)
        ]
        samples: list[np.ndarray] = []
        for process, wav_path in zip(processes, wav_paths, strict=True):
            _, stderr = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"espeak-ng failed: {stderr.decode(errors='replace')}")
            with wave.open(str(wav_path), "rb") as wav:
                assert wav.getframerate() == SPEECH_RATE and wav.getnchannels() == 1
                samples.append(np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"))
        return samples


def _container_format(path: Path) -> str:
    try:
        return _CONTAINER_FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"No test container for suffix {path.suffix!r}") from None


class _MediaWriter:
    """Encodes raw pictures and int16 mono audio into one file, interleaving as it goes."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: int,
        codec: str,
        with_audio: bool,
        faststart: bool = False,
        live: bool = False,
        display_rotation: int = 0,
        container_format: str | None = None,
    ) -> None:
        options: dict[str, str] = {}
        if faststart:
            options["movflags"] = "faststart"
        if live:
            options["live"] = "1"
        self.container: OutputContainer = av.open(
            str(path), "w", format=container_format or _container_format(path), options=options
        )
        self.fps = fps
        self.video: VideoStream = self.container.add_stream(
            _VIDEO_ENCODERS[codec], rate=fps, options=_encoder_options(codec)
        )  # type: ignore[assignment]  # a video encoder always gives a VideoStream
        self.video.width, self.video.height = size
        self.video.pix_fmt = "yuv420p"
        self.video.codec_context.gop_size = fps * 2  # a keyframe every 2 s, as recorders do
        if display_rotation:
            self.video.set_display_rotation(display_rotation)
        self.frames_written = 0
        self.audio: AudioStream | None = None
        self.audio_resampler: av.AudioResampler | None = None
        self.samples_written = 0
        if with_audio:
            webm = self.container.format.name == "webm"
            audio_rate = 48000 if webm else SPEECH_RATE
            self.audio = self.container.add_stream("libopus" if webm else "aac", rate=audio_rate)
            self.audio.layout = "mono"
            self.audio.format = "s16" if webm else "fltp"

    def add_picture(self, picture: Image.Image, count: int) -> None:
        yuv = av.VideoFrame.from_image(picture).reformat(format="yuv420p").to_ndarray()
        for _ in range(count):
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = self.frames_written
            frame.time_base = Fraction(1, self.fps)
            self.container.mux(self.video.encode(frame))
            self.frames_written += 1

    def add_audio(self, samples: np.ndarray, rate: int = SPEECH_RATE) -> None:
        assert self.audio is not None
        if self.audio_resampler is None:
            self.audio_resampler = av.AudioResampler(
                format=self.audio.format,
                layout="mono",
                rate=self.audio.rate,
                frame_size=self.audio.codec_context.frame_size or 1024,
            )
        source = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1),
            format="s16",
            layout="mono",
        )
        source.sample_rate = rate
        self._encode_audio(self.audio_resampler.resample(source))

    def _encode_audio(self, frames: list[av.AudioFrame]) -> None:
        assert self.audio is not None
        for frame in frames:
            frame.pts = self.samples_written
            frame.time_base = Fraction(1, self.audio.rate)
            self.samples_written += frame.samples
            self.container.mux(self.audio.encode(frame))

    def close(self) -> None:
        self.container.mux(self.video.encode(None))
        if self.audio is not None:
            if self.audio_resampler is not None:
                self._encode_audio(self.audio_resampler.resample(None))
            self.container.mux(self.audio.encode(None))
        self.container.close()


def _encoder_options(codec: str) -> dict[str, str]:
    if codec == "h264":
        # B-frames and CABAC stay on (unlike ultrafast) so decoding costs what real uploads cost.
        return {"preset": "veryfast"}
    if codec == "vp9":
        return {"deadline": "realtime", "cpu-used": "8"}
    return {}


# -- videos ----------------------------------------------------------------------------------


def make_slide_video(
    path: Path,
    slides: list[str],
    seconds_per_slide: float,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
    speech: list[str] | None = None,
    codec: str = "h264",
    *,
    faststart: bool = False,
    live: bool = False,
    display_rotation: int = 0,
) -> Path:
    """A slideshow where only the text changes; slide i starts at i * seconds_per_slide.

    With `speech`, phrase i is spoken from the start of slide i (cut at the slide's end) on
    an audio track exactly as long as the video (AAC, or Opus in WebM).
    `faststart` puts an MP4's index first (as web exports do); `live` writes a WebM or MKV
    the way browsers record them, with no length and no index in the file.
    `display_rotation` (degrees counter-clockwise, as FFmpeg reports it) marks the video to
    be turned when shown, like phone recordings: -90 shows a 320x180 picture as 180x320.
    """
    path = Path(path)
    if speech is not None and len(speech) != len(slides):
        raise ValueError("speech needs one phrase per slide")
    frames_per_slide = round(seconds_per_slide * fps)
    samples_per_slide = round(frames_per_slide / fps * SPEECH_RATE)
    spoken = _speak_all(speech) if speech is not None else None
    writer = _MediaWriter(
        path,
        size,
        fps,
        codec,
        with_audio=spoken is not None,
        faststart=faststart,
        live=live,
        display_rotation=display_rotation,
    )
    for index, text in enumerate(slides):
        writer.add_picture(render_slide(text, size), frames_per_slide)
        if spoken is not None:
            track = np.zeros(samples_per_slide, dtype=np.int16)
            phrase = spoken[index][:samples_per_slide]
            track[: len(phrase)] = phrase
            writer.add_audio(track)
    writer.close()
    return path


# Six titled slides, two of them dark, with what a presenter says over each: the product
# tour the offline docs are measured on (make_product_tour).
PRODUCT_TOUR: tuple[TitledSlide, ...] = (
    TitledSlide(
        "Welcome to Acme Docs",
        (
            "Turn product videos into documentation",
            "Chapters, articles and subtitles",
            "Works offline on one laptop",
        ),
        speech="Welcome to Acme Docs. This short tour shows how a product video becomes "
        "documentation.",
    ),
    TitledSlide(
        "Step 1: Create a Project",
        ("Open the dashboard", "Click New project", "Type a name and press Save"),
        speech="First create a project. Open the dashboard, click new project, then type a "
        "name and press save.",
    ),
    TitledSlide(
        "Step 2: Upload a Video",
        ("Open your project", "Drag the video file onto the page", "Pick the languages you need"),
        dark=True,
        speech="Next upload a video. Drag the file onto the page and pick the languages your "
        "readers need.",
    ),
    TitledSlide(
        "Step 3: Invite Your Team",
        (
            "Click the gear icon (top right)",
            "Open the Members tab",
            "Enter an email address and choose a role",
        ),
        dark=True,
        speech="Then invite your team. Open the members tab in the settings and enter their "
        "email address.",
    ),
    TitledSlide(
        "Step 4: Export the Docs",
        ("Open the Documentation tab", "Choose the Export tab", "Select Markdown or MDX"),
        numbered=True,
        speech="Finally export the documentation as Markdown or MDX from the export tab.",
    ),
    TitledSlide(
        "What You Get",
        ("One article per chapter", "A screenshot for every scene", "Subtitles in each language"),
        speech="You get one article per chapter, a screenshot for every scene, and subtitles "
        "in each language.",
    ),
)

Voice = Literal["espeak", "festival", "none"]


@dataclass(frozen=True)
class SlideVideo:
    """A generated video of titled slides, with what each slide shows and when."""

    path: Path
    slides: tuple[TitledSlide, ...]
    seconds_per_slide: float
    size: tuple[int, int]

    @property
    def titles(self) -> list[str]:
        return [slide.title for slide in self.slides]

    @property
    def bullets(self) -> list[tuple[str, ...]]:
        return [slide.bullets for slide in self.slides]

    @property
    def starts(self) -> list[float]:
        return [index * self.seconds_per_slide for index in range(len(self.slides))]

    @property
    def duration(self) -> float:
        return len(self.slides) * self.seconds_per_slide


def make_titled_slide_video(
    path: Path,
    slides: Sequence[TitledSlide] = PRODUCT_TOUR,
    seconds_per_slide: float = 10.0,
    size: tuple[int, int] = (1280, 720),
    fps: int = 30,
    voice: Voice = "espeak",
    codec: str = "h264",
) -> SlideVideo:
    """Titled slides (render_titled_slide), slide i from i * seconds_per_slide, with each
    slide's `speech` read over it (cut at the slide's end): by espeak-ng (fast, good for
    timing and structure), by festival's voice (slower to make, but its words are
    recognised), or not at all."""
    path = Path(path)
    slides = tuple(slides)
    frames_per_slide = round(seconds_per_slide * fps)
    spoken: list[np.ndarray] | None = None
    rate = SPEECH_RATE
    if voice == "espeak":
        spoken = _speak_all([slide.speech for slide in slides])
    elif voice == "festival":
        spoken, rate = _read_aloud_all([slide.speech for slide in slides])
    writer = _MediaWriter(path, size, fps, codec, with_audio=spoken is not None)
    samples_per_slide = round(frames_per_slide / fps * rate)
    for index, slide in enumerate(slides):
        writer.add_picture(render_titled_slide(slide, size), frames_per_slide)
        if spoken is not None:
            track = np.zeros(samples_per_slide, dtype=np.int16)
            phrase = spoken[index][:samples_per_slide]
            track[: len(phrase)] = phrase
            writer.add_audio(track, rate)
    writer.close()
    return SlideVideo(path, slides, seconds_per_slide, size)


def make_product_tour(path: Path, voice: Voice = "espeak") -> SlideVideo:
    """The product tour: PRODUCT_TOUR's six slides of 10 s, 60 s at 1280x720 and 30 fps."""
    return make_titled_slide_video(path, PRODUCT_TOUR, 10.0, (1280, 720), 30, voice)


def _read_aloud_all(phrases: Sequence[str]) -> tuple[list[np.ndarray], int]:
    """The phrases read by festival's voice, side by side; with its sample rate."""
    from concurrent.futures import ThreadPoolExecutor

    from . import read_speech

    if not read_speech.available():
        raise RuntimeError(
            "festival's cmu_us_slt_arctic_hts voice is not installed "
            "(scripts/install-system-packages.sh installs it)."
        )
    with ThreadPoolExecutor(max_workers=len(phrases) or 1) as pool:
        spoken = list(pool.map(read_speech.speak, phrases))
    return spoken, read_speech.SAMPLE_RATE


def make_slides_with_webcam_bubble(
    path: Path,
    slides: list[str],
    seconds_per_slide: float,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
) -> Path:
    """Text-only slides with a webcam-like bubble in the corner whose picture never stops moving.

    The bubble covers about 6% of the frame and changes completely every frame, as a
    presenter's face does in screen recordings made with a camera overlay.
    """
    path = Path(path)
    width, height = size
    radius = height // 6
    centre_x, centre_y = width - radius - 4, height - radius - 4
    rows, columns = np.mgrid[0:height, 0:width]
    bubble = (columns - centre_x) ** 2 + (rows - centre_y) ** 2 <= radius**2
    writer = _MediaWriter(path, size, fps, "h264", with_audio=False)
    frame_index = 0
    for text in slides:
        slide = np.asarray(render_slide(text, size)).copy()
        for _ in range(round(seconds_per_slide * fps)):
            # Coarse random blocks, new every frame: nothing repeats, as in a real face.
            blocks = np.random.default_rng(frame_index).integers(
                30, 220, (height // 8 + 1, width // 8 + 1)
            )
            picture = slide.copy()
            picture[bubble] = blocks[rows[bubble] // 8, columns[bubble] // 8, None]
            writer.add_picture(Image.fromarray(picture), 1)
            frame_index += 1
    writer.close()
    return path


def make_typing_video(
    path: Path,
    texts: list[str],
    seconds_each: float,
    size: tuple[int, int] = (1280, 720),
    font_size: int = 12,
    fps: int = 10,
) -> Path:
    """Small interface text in one corner of a still screen, changed every `seconds_each`:
    like a form being filled in, a change far too small to be a scene cut."""
    path = Path(path)
    writer = _MediaWriter(path, size, fps, "h264", with_audio=False)
    font = ImageFont.load_default(size=font_size)
    for text in texts:
        picture = Image.new("RGB", size, BACKGROUND)
        draw = ImageDraw.Draw(picture)
        draw.rectangle(
            (size[0] // 12 - 6, size[1] // 7 - 6, size[0] // 3, size[1] // 7 + 20), outline=INK
        )
        draw.text((size[0] // 12, size[1] // 7), text, font=font, fill=INK)
        writer.add_picture(picture, round(seconds_each * fps))
    writer.close()
    return path


def make_static_video(
    path: Path, seconds: float, size: tuple[int, int] = (320, 180), fps: int = 10
) -> Path:
    """One slide held still for the whole video: no scene cut anywhere."""
    return make_slide_video(path, ["Nothing changes here"], seconds, size=size, fps=fps)


def make_fading_video(
    path: Path, seconds: float, size: tuple[int, int] = (320, 180), fps: int = 10
) -> Path:
    """A slide that slowly fades from dark to light over the whole video: no scene cut either."""
    path = Path(path)
    slide = np.asarray(render_slide("Slowly getting brighter", size), dtype=np.float32)
    writer = _MediaWriter(path, size, fps, "h264", with_audio=False)
    total = round(seconds * fps)
    for index in range(total):
        brightness = 0.15 + 0.85 * index / max(1, total - 1)
        picture = Image.fromarray((slide * brightness).astype(np.uint8))
        writer.add_picture(picture, 1)
    writer.close()
    return path


def make_scrolling_video(
    path: Path,
    hold_seconds: float,
    scroll_seconds: float,
    size: tuple[int, int] = (320, 180),
    fps: int = 10,
) -> Path:
    """A page of text that holds still, scrolls up steadily, then holds still again."""
    path = Path(path)
    width, height = size
    line_height = max(12, height // 8)
    page = Image.new("RGB", (width, height * 4), BACKGROUND)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=line_height * 3 // 4)
    for line in range(page.height // line_height):
        draw.text(
            (width // 10, line * line_height),
            f"Line {line}: settings and options",
            font=font,
            fill=INK,
        )
    hold_frames, scroll_frames = round(hold_seconds * fps), round(scroll_seconds * fps)
    writer = _MediaWriter(path, size, fps, "h264", with_audio=False)
    writer.add_picture(page.crop((0, 0, width, height)), hold_frames)
    travel = page.height - height
    for index in range(1, scroll_frames + 1):
        top = round(travel * index / scroll_frames)
        writer.add_picture(page.crop((0, top, width, top + height)), 1)
    writer.add_picture(page.crop((0, travel, width, travel + height)), hold_frames)
    writer.close()
    return path


def make_raw_h264(path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 180)) -> Path:
    """A bare H.264 stream with no container around it, so nothing records its length."""
    path = Path(path)
    fps = 10
    writer = _MediaWriter(path, size, fps, "h264", with_audio=False, container_format="h264")
    writer.add_picture(render_slide("No container", size), round(seconds * fps))
    writer.close()
    return path


# -- bad inputs ------------------------------------------------------------------------------


def make_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """A file with a spoken phrase and no video stream (AAC in MP4, or Opus in WebM)."""
    path = Path(path)
    webm = _container_format(path) == "webm"
    container = av.open(str(path), "w", format=_container_format(path))
    rate = 48000 if webm else SPEECH_RATE
    stream = container.add_stream("libopus" if webm else "aac", rate=rate)
    stream.layout = "mono"
    resampler = av.AudioResampler(
        format="s16" if webm else "fltp",
        layout="mono",
        rate=rate,
        frame_size=stream.codec_context.frame_size or 1024,
    )
    track = np.zeros(round(seconds * SPEECH_RATE), dtype=np.int16)
    phrase = speak("This file has sound but no pictures")[: len(track)]
    track[: len(phrase)] = phrase
    source = av.AudioFrame.from_ndarray(track.reshape(1, -1), format="s16", layout="mono")
    source.sample_rate = SPEECH_RATE
    written = 0
    for frame in [*resampler.resample(source), *resampler.resample(None)]:
        frame.pts = written
        frame.time_base = Fraction(1, rate)
        written += frame.samples
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


def make_text_file(path: Path) -> Path:
    path = Path(path)
    path.write_text("These are meeting notes, not a video.\n" * 40, encoding="utf-8")
    return path


def make_truncated_copy(src: Path, dst: Path, fraction: float = 0.3) -> Path:
    """The first `fraction` of src's bytes, like an upload that stopped part-way."""
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def make_empty(path: Path) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_undecodable_copy(src: Path, dst: Path) -> Path:
    """An MP4 whose index is intact but whose media bytes are garbage: it opens, nothing decodes."""
    data = bytearray(Path(src).read_bytes())
    offset = 0
    while offset + 8 <= len(data):
        box_size = int.from_bytes(data[offset : offset + 4], "big")
        box_type = bytes(data[offset + 4 : offset + 8])
        header = 8
        if box_size == 1:
            box_size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            header = 16
        elif box_size == 0:
            box_size = len(data) - offset
        if box_type == b"mdat":
            payload_start, payload_end = offset + header, offset + box_size
            pattern = bytes(range(251, 256)) * ((payload_end - payload_start) // 5 + 1)
            data[payload_start:payload_end] = pattern[: payload_end - payload_start]
            Path(dst).write_bytes(bytes(data))
            return Path(dst)
        offset += box_size
    raise ValueError(f"{src} has no mdat box")
