"""Media analysis with PyAV: what a video is, its sound, its scene cuts and its screenshots."""

from reeldocs.media.audio import SPEECH_SAMPLE_RATE, extract_audio
from reeldocs.media.errors import MediaError
from reeldocs.media.frames import SCREENSHOT_WIDTH, grab_frames, screenshot_name
from reeldocs.media.probe import VideoProbe, probe
from reeldocs.media.scenes import SceneDetectionSettings, detect_scenes

__all__ = [
    "SCREENSHOT_WIDTH",
    "SPEECH_SAMPLE_RATE",
    "MediaError",
    "SceneDetectionSettings",
    "VideoProbe",
    "detect_scenes",
    "extract_audio",
    "grab_frames",
    "probe",
    "screenshot_name",
]
