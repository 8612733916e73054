"""Portable PDF fragments, and the writer that links them into sheets.

A `Fragment` is one Form XObject taken out of a WeasyPrint page (its content stream, still compressed,
and every object its resources reach: fonts, font files, graphic states), with references numbered
locally. Fragments are what the badge cache stores. Linking a thousand of them into a PDF is then only
byte copying: no PDF is parsed at export time, which keeps a warm export (nothing changed) fast.
Identical objects (the font subset shared by the badges of one rendered chunk) are written once.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from io import BytesIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)

from seminar.badges.layouts import MM_TO_PT, Layout

MAGIC = b"SBF1"
REFERENCE = re.compile(rb"\x00(\d+)\x00")
CROP_MARK_WIDTH_PT = 0.25


@dataclass
class Fragment:
    """A Form XObject with its own object graph. Object i (1-based) may refer to objects < i only;
    the last object is the Form XObject itself. References are written as NUL-number-NUL."""

    objects: list[tuple[bytes, bytes | None]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        out = [MAGIC, struct.pack(">I", len(self.objects))]
        for head, data in self.objects:
            out += [struct.pack(">I", len(head)), head]
            out += [struct.pack(">I", 0xFFFFFFFF)] if data is None else [struct.pack(">I", len(data)), data]
        return b"".join(out)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Fragment:
        if raw[:4] != MAGIC:
            raise ValueError("not a badge fragment")
        (count,) = struct.unpack_from(">I", raw, 4)
        offset, objects = 8, []
        for _ in range(count):
            (size,) = struct.unpack_from(">I", raw, offset)
            head = raw[offset + 4:offset + 4 + size]
            offset += 4 + size
            (size,) = struct.unpack_from(">I", raw, offset)
            offset += 4
            data = None
            if size != 0xFFFFFFFF:
                data = raw[offset:offset + size]
                offset += size
            objects.append((head, data))
        if offset != len(raw):
            raise ValueError("truncated or oversized badge fragment")
        return cls(objects)


class _LocalReference(IndirectObject):
    """Serialises as a placeholder that the linker replaces with the object's number in the output."""

    def __init__(self, index: int):
        super().__init__(index, 0, None)

    def write_to_stream(self, stream, encryption_key=None) -> None:
        stream.write(b"\x00%d\x00" % self.idnum)


def _serialise(obj) -> bytes:
    buffer = BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()


class _FragmentBuilder:
    def __init__(self):
        self.fragment = Fragment()
        self.indexes: dict[tuple[int, int], int] = {}
        self.visiting: set[tuple[int, int]] = set()

    def add(self, head: bytes, data: bytes | None) -> int:
        self.fragment.objects.append((head, data))
        return len(self.fragment.objects)

    def local(self, obj):
        """A copy of `obj` whose indirect references point to objects already added to the fragment."""
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key not in self.indexes:
                if key in self.visiting:
                    raise ValueError("cyclic resources cannot be moved into a fragment")
                self.visiting.add(key)
                target = obj.get_object()
                if isinstance(target, StreamObject):
                    head, data = self.stream(target)
                else:
                    head, data = _serialise(self.local(target)), None
                self.indexes[key] = self.add(head, data)
                self.visiting.discard(key)
            return _LocalReference(self.indexes[key])
        if isinstance(obj, StreamObject):
            raise ValueError("a direct stream object cannot be moved into a fragment")
        if isinstance(obj, DictionaryObject):
            copy = DictionaryObject()
            for name, value in obj.items():
                copy[NameObject(name)] = self.local(value)
            return copy
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.local(item) for item in obj)
        return obj

    def stream(self, stream: StreamObject, extra: dict | None = None) -> tuple[bytes, bytes]:
        head = DictionaryObject()
        for name, value in stream.items():
            if name != "/Length":
                head[NameObject(name)] = self.local(value)
        head.update(extra or {})
        data = stream._data
        head[NameObject("/Length")] = NumberObject(len(data))
        return _serialise(head), data


def _page_content(page) -> tuple[bytes, bytes | None]:
    """The page's content as one stream: (raw data, filter name or None)."""
    contents = page["/Contents"].get_object()
    if isinstance(contents, ArrayObject):
        data = b"\n".join(part.get_object().get_data() for part in contents)
        return zlib.compress(data), "/FlateDecode"
    filters = contents.get("/Filter")
    if filters in (None, "/FlateDecode") and "/DecodeParms" not in contents:
        return contents._data, filters
    return zlib.compress(contents.get_data()), "/FlateDecode"


def page_fragments(pdf: bytes, extra_content: Sequence[bytes] = ()) -> list[Fragment]:
    """Every page of `pdf` as a fragment; `extra_content[i]` (PDF operators) is drawn over page i."""
    reader = PdfReader(BytesIO(pdf))
    fragments = []
    for index, page in enumerate(reader.pages):
        builder = _FragmentBuilder()
        resources = builder.local(page.get("/Resources", DictionaryObject()))
        data, filter_name = _page_content(page)
        extra = extra_content[index] if index < len(extra_content) else b""
        if extra:
            decoded = zlib.decompress(data) if filter_name else data
            # The page's content may leave its transformation matrix changed: isolate it.
            data, filter_name = zlib.compress(b"q\n" + decoded + b"\nQ\n" + extra), "/FlateDecode"
        head = DictionaryObject({
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(value) for value in page.mediabox),
            NameObject("/Resources"): resources,
            NameObject("/Length"): NumberObject(len(data)),
        })
        if filter_name:
            head[NameObject("/Filter")] = NameObject(filter_name)
        if "/Group" in page:
            head[NameObject("/Group")] = builder.local(page["/Group"])
        builder.add(_serialise(head), data)
        fragments.append(builder.fragment)
    return fragments


def _pt(mm: float) -> str:
    return f"{mm * MM_TO_PT:.3f}".rstrip("0").rstrip(".")


class SheetWriter:
    """Writes a PDF whose pages are sheets of `layout`, each slot drawing one or more fragments."""

    def __init__(self, layout: Layout, *, title: str = "Badges"):
        self.layout = layout
        self.title = title
        self.out = BytesIO()
        self.offsets: list[int] = []
        self.known: dict[bytes, int] = {}
        self.pages: list[int] = []
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.pages_id = self._reserve()

    def _reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets)

    def _write(self, number: int, head: bytes, data: bytes | None = None) -> None:
        self.offsets[number - 1] = self.out.tell()
        self.out.write(b"%d 0 obj\n" % number)
        self.out.write(head)
        if data is not None:
            self.out.write(b"\nstream\n")
            self.out.write(data)
            self.out.write(b"\nendstream")
        self.out.write(b"\nendobj\n")

    def add_fragment(self, fragment: Fragment) -> int:
        """Writes the fragment's objects (each distinct object once); the Form XObject's number."""
        numbers: list[int] = []
        for head, data in fragment.objects:
            linked = REFERENCE.sub(lambda match: b"%d 0 R" % numbers[int(match[1]) - 1], head)
            digest = hashlib.sha256(linked + b"\x00" + (data or b"")).digest()
            number = self.known.get(digest)
            if number is None:
                number = self._reserve()
                self._write(number, linked, data)
                self.known[digest] = number
            numbers.append(number)
        return numbers[-1]

    def add_sheet(self, slots: Sequence[Sequence[int]]) -> None:
        """One sheet; `slots[i]` lists the XObjects drawn, in order, in the layout's slot i."""
        layout = self.layout
        operations, names = [], []
        for index, (xobjects, slot) in enumerate(zip(slots, layout.slots, strict=False)):
            x, y = _pt(slot.x), _pt(layout.sheet_height - slot.y - layout.badge.height)  # PDF measures up
            draws = []
            for layer, number in enumerate(xobjects):
                name = f"/S{index}L{layer}"
                names.append(f"{name} {number} 0 R")
                draws.append(f"{name} Do")
            operations.append(f"q 1 0 0 1 {x} {y} cm {' '.join(draws)} Q")
        if layout.crop_marks:
            operations.append(f"q {CROP_MARK_WIDTH_PT} w 0 0 0 RG")
            height = layout.sheet_height
            for mark in layout.crop_marks:
                operations.append(
                    f"{_pt(mark.x1)} {_pt(height - mark.y1)} m {_pt(mark.x2)} {_pt(height - mark.y2)} l S"
                )
            operations.append("Q")
        content = zlib.compress("\n".join(operations).encode())
        content_id = self._reserve()
        self._write(content_id, b"<< /Length %d /Filter /FlateDecode >>" % len(content), content)
        page_id = self._reserve()
        head = (
            f"<< /Type /Page /Parent {self.pages_id} 0 R /MediaBox [0 0 {_pt(layout.sheet_width)} "
            f"{_pt(layout.sheet_height)}] /Resources << /XObject << {' '.join(names)} >> >> "
            f"/Contents {content_id} 0 R >>"
        )
        self._write(page_id, head.encode())
        self.pages.append(page_id)

    def finish(self) -> bytes:
        kids = " ".join(f"{number} 0 R" for number in self.pages)
        self._write(self.pages_id, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} >>".encode())
        catalog = self._reserve()
        self._write(catalog, f"<< /Type /Catalog /Pages {self.pages_id} 0 R >>".encode())
        info = self._reserve()
        title = self.title.encode("utf-16-be").hex().upper()
        self._write(info, f"<< /Title <FEFF{title}> /Producer (Seminar badges, WeasyPrint) >>".encode())
        xref = self.out.tell()
        self.out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.offsets) + 1))
        self.out.write(b"".join(b"%010d 00000 n \n" % offset for offset in self.offsets))
        self.out.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.offsets) + 1, catalog, info, xref)
        )
        return self.out.getvalue()


def impose(badges: Sequence[Sequence[str]], layout: Layout, load: Callable[[str], Fragment], *,
           title: str = "Badges") -> bytes:
    """Badges on `layout`'s sheets. Each badge is a list of fragment keys drawn in order (background, then
    foreground); `load(key)` reads a fragment when it is first needed, so that only one is held at a time."""
    writer = SheetWriter(layout, title=title)
    numbers: dict[str, int] = {}

    def number(key: str) -> int:
        if key not in numbers:
            numbers[key] = writer.add_fragment(load(key))
        return numbers[key]

    placed = [[number(key) for key in badge] for badge in badges]
    for start in range(0, max(len(placed), 1), layout.per_sheet):
        writer.add_sheet(placed[start:start + layout.per_sheet])
    return writer.finish()
