"""Decompression bombs in sound and video (issue 19): audio headers are checked against channel, rate
and duration caps before decoding, only mono samples are held while decoding, and video sampling
holds a fixed number of pictures however long the video."""
from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from agent.narrate.describe import MAX_SAMPLES, sample_frames, sample_step
from tools.base import ToolError
from tools.media.audio import MAX_AUDIO_S, read_audio


def _silent_flac(path, seconds: float, channels: int, rate: int):
    block = np.zeros((rate, channels), dtype=np.int16)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, format="FLAC", subtype="PCM_16") as out:
        for _ in range(int(seconds)):
            out.write(block)
    return path


def test_multichannel_hires_silence_is_decoded_to_mono_without_the_channels(tmp_path):
    flac = _silent_flac(tmp_path / "bomb.flac", 20, 8, 192_000)
    assert flac.stat().st_size < 100_000  # 20 s of 8 x 192 kHz: 123 MB once decoded whole
    tracemalloc.start()
    try:
        audio, rate = read_audio(flac, "bomb.flac")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rate == 192_000 and len(audio) == 20 * 192_000 and not audio.any()
    assert peak < 40_000_000, f"{peak / 1e6:.0f} MB held decoding it (mono alone is 15 MB)"


def test_a_flac_header_claiming_hours_is_refused_before_decoding(tmp_path):
    flac = _silent_flac(tmp_path / "claims.flac", 1, 2, 48_000)
    data = bytearray(flac.read_bytes())
    assert data[:4] == b"fLaC"
    packed = int.from_bytes(data[18:26], "big")  # STREAMINFO: 20 bits rate, 3 channels, 5 bits, 36 total samples
    claimed = int((MAX_AUDIO_S + 3600) * 48_000)
    data[18:26] = ((packed >> 36 << 36) | claimed).to_bytes(8, "big")
    flac.write_bytes(bytes(data))
    started = time.perf_counter()
    with pytest.raises(ToolError, match="over the decoding budget") as error:
        read_audio(flac, "claims.flac")
    assert time.perf_counter() - started < 1.0 and "\n" not in str(error.value)


def test_too_many_channels_are_refused_by_the_header(tmp_path):
    flac = tmp_path / "many.wav"
    sf.write(str(flac), np.zeros((100, 12), dtype=np.int16), 8000, subtype="PCM_16")
    with pytest.raises(ToolError, match="12 channels at 8000 Hz; the limits are 8 channels"):
        read_audio(flac, "many.wav")


def test_a_long_video_is_sampled_with_a_bounded_number_of_pictures(tmp_path):
    import av

    path, seconds = tmp_path / "long.mp4", 600  # ten minutes at 1 fps, 48 x 32: a few tens of kB
    with av.open(str(path), "w") as box:
        stream = box.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        for n in range(seconds):
            picture = np.full((32, 48, 3), (n * 7) % 255, dtype=np.uint8)
            box.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        box.mux(stream.encode(None))
    step = sample_step(seconds)
    samples, end = sample_frames(path, seconds, step)
    distinct = {id(image) for _, image in samples}
    assert step == seconds / MAX_SAMPLES and abs(end - seconds) <= 1.0
    assert len(samples) <= MAX_SAMPLES + 1 and len(distinct) <= MAX_SAMPLES + 1  # 1,200 at the old 0.5 s step
    assert samples[1][0] == pytest.approx(step, abs=1e-3)
