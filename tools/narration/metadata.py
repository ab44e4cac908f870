"""Image metadata for accessibility: read what a file already says about itself, write alt text back.

IPTC Photo Metadata 2021.1 added "Alt Text (Accessibility)" and "Extended Description" as XMP
properties (`Iptc4xmpCore:AltTextAccessibility`, `Iptc4xmpCore:ExtDescrAccessibility`, both
language alternatives). PNG keeps XMP in an iTXt chunk keyed `XML:com.adobe.xmp`; JPEG in an APP1
segment, which Pillow writes with `xmp=`. Reading uses plain string search rather than an XML
parser on purpose: the XMP comes from untrusted files and only two plain-text values are wanted. The
search is linear in the packet's length and a packet over MAX_XMP_CHARS is not read at all (issue 19:
a backtracking regular expression froze the server for seconds on a 622-byte PNG).
Writing strips characters XML 1.0 forbids and caps each field at MAX_FIELD_CHARS: a JPEG's XMP
segment holds at most ~65 kB, and a packet that does not parse is useless to every reader.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from tools.media.image import open_allowed

XMP_KEY = "XML:com.adobe.xmp"
EXIF_IMAGE_DESCRIPTION = 0x010E
MAX_FIELD_CHARS = 2000
MAX_XMP_CHARS = 256_000  # a real accessibility packet is a few kB; a bigger one is ignored as context
# XML 1.0 allows tab, newline and carriage return among the C0 controls, nothing else; nor surrogates,
# U+FFFE / U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/">
   <Iptc4xmpCore:AltTextAccessibility><rdf:Alt><rdf:li xml:lang="x-default">{alt}</rdf:li></rdf:Alt>
   </Iptc4xmpCore:AltTextAccessibility>
   <Iptc4xmpCore:ExtDescrAccessibility><rdf:Alt><rdf:li xml:lang="x-default">{ext}</rdf:li></rdf:Alt>
   </Iptc4xmpCore:ExtDescrAccessibility>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (control characters a sidecar may carry)."""
    return _NOT_XML.sub("", text)


def xmp_fields(alt: str, extended: str) -> tuple[str, str, list[str]]:
    """(alt, extended) as they will be written: XML-safe, stripped and capped; warnings for what was cut."""
    fields, warnings = [], []
    for label, text in (("alt text", alt), ("extended description", extended)):
        text = xml_safe(text).strip()
        if len(text) > MAX_FIELD_CHARS:
            warnings.append(f"{label} cut to {MAX_FIELD_CHARS} of {len(text)} characters in the image's XMP")
            text = text[:MAX_FIELD_CHARS - 1].rsplit(" ", 1)[0].rstrip() + "…"
        fields.append(text)
    return fields[0], fields[1], warnings


def xmp_packet(alt: str, extended: str) -> str:
    alt, extended, _ = xmp_fields(alt, extended)
    return _XMP.format(alt=html.escape(alt, quote=False), ext=html.escape(extended, quote=False))


_ALT_OPENING = re.compile(r"\s*<rdf:Alt>\s*<rdf:li[^<>]*>")  # only ever .match()ed at one position


def xmp_field(xmp: str, name: str) -> str | None:
    """The x-default text of the XMP language alternative `Iptc4xmpCore:<name>`; linear time (each
    opening tag is matched in place, the closing tag searched once)."""
    if len(xmp) > MAX_XMP_CHARS:
        return None
    tag, start = f"<Iptc4xmpCore:{name}>", 0
    while (start := xmp.find(tag, start)) >= 0:
        start += len(tag)
        opening = _ALT_OPENING.match(xmp, start)
        if opening:
            end = xmp.find("</rdf:li>", opening.end())
            return html.unescape(xmp[opening.end():end]).strip()[:MAX_FIELD_CHARS] if end >= 0 else None
    return None


def read_xmp(path: Path) -> str:
    """The raw XMP text of a PNG or JPEG ('' when it has none)."""
    with open_allowed(path) as img:
        raw = img.info.get(XMP_KEY) or img.info.get("xmp") or ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def read_embedded(path: Path) -> dict[str, Any]:
    """What an image already says: XMP alt text and extended description, EXIF ImageDescription, PNG
    Description/Title text chunks. Keys: embedded_alt, embedded_description (only those found)."""
    found: dict[str, Any] = {}
    with open_allowed(path) as img:
        info = {k: v for k, v in img.info.items() if isinstance(k, str)}
        description = _exif_description(img)
    xmp = info.get(XMP_KEY) or info.get("xmp") or ""
    xmp = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else str(xmp)
    alt = xmp_field(xmp, "AltTextAccessibility")
    if alt:
        found["embedded_alt"] = alt
    text = xmp_field(xmp, "ExtDescrAccessibility") or description or info.get("Description") or info.get("Title")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if isinstance(text, str) and text.strip():
        found["embedded_description"] = text.strip()[:MAX_FIELD_CHARS]
    return found


def _exif_description(img) -> Any:
    """EXIF ImageDescription, or None: malformed EXIF (Pillow raises SyntaxError, struct errors...) is
    only missing context, not a reason to refuse the picture."""
    try:
        return img.getexif().get(EXIF_IMAGE_DESCRIPTION)
    except Exception:  # noqa: BLE001 - any parser failure on untrusted bytes means "no description"
        return None


def _exif(img) -> Any:
    from PIL import Image

    try:
        return img.getexif()
    except Exception:  # noqa: BLE001 - unreadable EXIF is dropped from the copy rather than failing it
        return Image.Exif()


def write_described_copy(source: Path, out: Path, alt: str, extended: str) -> Path:
    """Copy the image at `source` to `out` + .jpg/.png with the XMP accessibility fields. JPEG stays JPEG (its
    quantisation kept, so the copy looks the same); anything else becomes PNG (lossless)."""
    from PIL.PngImagePlugin import PngInfo

    packet = xmp_packet(alt, extended)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_allowed(source) as img:
        if img.format == "JPEG":
            out = out.with_name(out.name + ".jpg")
            img.save(out, format="JPEG", quality="keep", xmp=packet.encode("utf-8"), exif=_exif(img))
            return out
        out = out.with_name(out.name + ".png")
        info = PngInfo()
        info.add_itxt(XMP_KEY, packet)
        frame = img if img.mode in ("1", "L", "LA", "I", "P", "RGB", "RGBA") else img.convert("RGBA")
        frame.save(out, format="PNG", pnginfo=info)
    return out


def check_written(path: Path, alt: str, extended: str) -> list[str]:
    """Problems found reading the fields back ([] when the packet parses and both read back exactly);
    `alt` and `extended` as given to `write_described_copy`."""
    from xml.dom import minidom
    from xml.parsers.expat import ExpatError

    alt, extended, _ = xmp_fields(alt, extended)
    xmp = read_xmp(path)
    problems = []
    try:
        # the packet is ours, just written: no external entities or DTD to fear in parsing it
        minidom.parseString(xmp.encode("utf-8"))
    except ExpatError as exc:
        problems.append(f"the XMP packet in {path.name} does not parse as XML: {exc}")
    if (xmp_field(xmp, "AltTextAccessibility") or "") != alt.strip():
        problems.append(f"alt text did not read back from {path.name}")
    if (xmp_field(xmp, "ExtDescrAccessibility") or "") != extended.strip():
        problems.append(f"extended description did not read back from {path.name}")
    return problems
