"""Crafted hostile files for the fuzz suite: broken pictures and broken safetensors weights, built from valid ones.

Each builder returns ``(label, bytes)`` pairs; nothing here touches the disk. The suite writes them to a temporary
folder and feeds them to the loaders users reach.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib

import numpy as np
from PIL import Image


def _encoded(array: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` RGB pixels (a decompression bomb when large)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 256))
            + _png_chunk(b"IEND", b""))


def valid_pictures(seed: int = 0) -> list[tuple[str, bytes]]:
    """Unusual but valid pictures: 1x1, 16-bit, palette, grey+alpha, CMYK, 1-bit, float, tiny and thin."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return [
        ("1x1.png", _encoded(rgb[:1, :1], "PNG")),
        ("16bit.png", _encoded(rng.integers(0, 65536, (24, 32), dtype=np.uint16), "PNG")),
        ("palette.png", _palette(rgb)),
        ("grey_alpha.png", _encoded(np.dstack([rgb[..., 0], rgb[..., 1]]), "PNG")),
        ("rgba.png", _encoded(np.dstack([rgb, rgb[..., :1]]), "PNG")),
        ("cmyk.jpg", _cmyk(rgb)),
        ("bilevel.png", _bilevel(rgb)),
        ("float.tiff", _encoded(rng.random((24, 32)).astype(np.float32), "TIFF")),
        ("thin.png", _encoded(rgb[:8, :], "PNG")),
        ("sliver.png", _encoded(rgb[:2, :], "PNG")),
        ("rgb.jpg", _encoded(rgb, "JPEG", quality=90)),
        ("rgb.webp", _encoded(rgb, "WEBP")),
    ]


def _palette(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("P").save(buffer, "PNG")
    return buffer.getvalue()


def _cmyk(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("CMYK").save(buffer, "JPEG")
    return buffer.getvalue()


def _bilevel(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).convert("1").save(buffer, "PNG")
    return buffer.getvalue()


def broken_pictures(seed: int = 0, cuts: int = 40, flips: int = 40) -> list[tuple[str, bytes]]:
    """Truncations at ``cuts`` points and ``flips`` random byte corruptions of a PNG and a JPEG, garbage, empty
    files, and decompression bombs (a few hundred bytes declaring up to 10^10 pixels)."""
    rng = random.Random(seed)
    picture = np.random.default_rng(seed).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    sources = {"png": _encoded(picture, "PNG"), "jpg": _encoded(picture, "JPEG", quality=85)}
    found = [("empty.png", b""), ("one_byte.png", b"\x89")]
    for kind, data in sources.items():
        for index in range(cuts):
            cut = 1 + index * (len(data) - 2) // cuts
            found.append((f"truncated_{cut}.{kind}", data[:cut]))
        for index in range(flips):
            corrupt = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
            found.append((f"flipped_{index}.{kind}", bytes(corrupt)))
        found.append((f"header_only.{kind}", data[:16]))
    found += [(f"garbage_{index}.png", rng.randbytes(rng.randint(1, 4096))) for index in range(20)]
    found += [(f"{'bomb' if w * h > 8192**2 else 'declared'}_{w}x{h}.png", png_declaring(w, h)) for w, h in
              ((100_000, 100_000), (9000, 9000), (65_535, 1), (1, 65_535), (2**31 - 1, 2**31 - 1), (0, 10))]
    return found


# ---------------------------------------------------------------------------------------------------- safetensors


def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    length = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def join_safetensors(header: dict | bytes, body: bytes, length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def broken_weights(valid: bytes, seed: int = 0, flips: int = 80) -> list[tuple[str, bytes]]:
    """Hostile variants of a valid weights file: lying header lengths, overlapping and out-of-range offsets, wrong
    dtypes and shapes, lying configs (a model thousands of times larger), metadata bombs, random header flips."""
    rng = random.Random(seed)
    header, body = split_safetensors(valid)
    names = [key for key in header if key != "__metadata__"]
    raw = json.dumps(header).encode()
    found = [("empty", b""), ("seven_bytes", b"\x07" * 7), ("only_length", struct.pack("<Q", 100))]
    for length in (0, 1, 7, len(raw) - 1, len(raw) + 1, len(raw) + len(body), 2**24, 2**40, 2**64 - 1):
        found.append((f"length_{length}", join_safetensors(raw, body, length)))
    found.append(("truncated_body", join_safetensors(raw, body[: len(body) // 2])))

    def variant(label, change):
        copy = json.loads(raw)
        change(copy)
        found.append((label, join_safetensors(copy, body)))

    first, second = names[0], names[1]
    variant("overlap", lambda h: h[second].__setitem__("data_offsets", h[first]["data_offsets"]))
    variant("out_of_range", lambda h: h[first].__setitem__("data_offsets", [0, len(body) + 4]))
    variant("reversed", lambda h: h[first].__setitem__("data_offsets", h[first]["data_offsets"][::-1]))
    variant("negative", lambda h: h[first].__setitem__("data_offsets", [-4, 4]))
    for dtype in ("I32", "U8", "BOOL", "I64", "F64", "F16", "XX"):
        variant(f"dtype_{dtype}", lambda h, d=dtype: h[first].__setitem__("dtype", d))
    variant("shape_lie", lambda h: h[first].__setitem__("shape", [10**9]))
    variant("shape_negative", lambda h: h[first].__setitem__("shape", [-1]))
    variant("no_metadata", lambda h: h.pop("__metadata__"))
    variant("no_family", lambda h: h["__metadata__"].pop("family"))
    variant("other_family", lambda h: h["__metadata__"].__setitem__("family", "opencv"))
    variant("unknown_family", lambda h: h["__metadata__"].__setitem__("family", "../../etc"))
    variant("format_version_text", lambda h: h["__metadata__"].__setitem__("format_version", "x"))
    variant("format_version_future", lambda h: h["__metadata__"].__setitem__("format_version", "99"))
    variant("config_not_json", lambda h: h["__metadata__"].__setitem__("config", "{"))
    variant("config_list", lambda h: h["__metadata__"].__setitem__("config", "[1, 2]"))
    variant("config_unknown_field", lambda h: h["__metadata__"].__setitem__("config", '{"nope": 1}'))

    def inflate(h):
        config = json.loads(h["__metadata__"]["config"])
        for key, value in config.items():
            if isinstance(value, int) and not isinstance(value, bool) and value > 4:
                config[key] = value * 4000
        h["__metadata__"]["config"] = json.dumps(config)

    variant("config_bomb", inflate)
    variant("metadata_bomb", lambda h: h["__metadata__"].__setitem__("junk", "x" * (20 * 2**20)))
    for index in range(flips):
        corrupt = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(32, 127)
        found.append((f"header_flip_{index}", join_safetensors(bytes(corrupt), body)))
    return found
