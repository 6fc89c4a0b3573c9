"""How a text file is decoded: the byte sniffing, the header line, line-by-line decoding, and the
notes that say what was assumed.

Decoding is decided per line, not per file: an attack run (issue 20) showed a UTF-8 file with a BOM
and a few Windows-1252 bytes decoded entirely as Windows-1252 ('CafÃ© Street') while the note said
UTF-8. Now each line is UTF-8 when it is valid UTF-8 and Windows-1252 otherwise, and the note counts
both; the fast whole-file reader is used only when one encoding provably covers every line.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from hotspot_engine.errors import InputError
from hotspot_engine.read.limits import Limits


def _looks_like_text(head: bytes) -> bool:
    sample = head[:8192]
    if not sample:
        return True
    if b"\x00" in sample:
        return False
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control / len(sample) < 0.01


def _reading_notes(encoding: str, delimiter: str) -> list[str]:
    """What the reader assumed about a text file, for the load's notes."""
    notes = []
    if encoding == "cp1252":
        notes.append("encoding: not UTF-8, read as Windows-1252")
    elif encoding == "utf-8-sig":
        notes.append("encoding: UTF-8 with byte-order mark")
    if delimiter != ",":
        notes.append(f"delimiter: {'tab' if delimiter == chr(9) else repr(delimiter)}")
    return notes


def _decode_head(head: bytes) -> tuple[str, str]:
    """(encoding, decoded head text). UTF-8 (with or without BOM) else Windows-1252."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", head[3:].decode("utf-8", errors="replace")
    try:
        return "utf-8", head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a multi-byte character cut by the sample boundary
            return "utf-8", head[: exc.start].decode("utf-8")
        return "cp1252", head.decode("cp1252", errors="replace")


# Any well-formed UTF-8 multi-byte character. Windows-1252 text almost never holds one (it would take
# a pair like 'Ã©'), so a file that is not UTF-8 throughout but holds one mixes the two encodings.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def has_utf8_multibyte(data: bytes) -> bool:
    return _UTF8_MULTIBYTE.search(data) is not None


def first_line(data: bytes, name: str, limits: Limits) -> bytes:
    """The header line's bytes, read whole however long (a 100,000-column header is about 1 MB), or
    a refusal when no line break comes within ``limits.max_line_bytes``."""
    end = data.find(b"\n", 0, limits.max_line_bytes + 1)
    if end < 0:
        if len(data) > limits.max_line_bytes:
            raise InputError(f"{name}: row 1: the header line is longer than the "
                             f"{limits.max_line_bytes / 1e6:,.1f} MB limit (or the file has no line breaks)")
        end = len(data)
    return data[:end].rstrip(b"\r")


def decode_header(line: bytes) -> tuple[str, str]:
    """(encoding, text) of the header line: 'utf-8-sig', 'utf-8' or 'cp1252'."""
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
        try:
            return "utf-8-sig", line.decode("utf-8")
        except UnicodeDecodeError:
            return "utf-8-sig", line.decode("cp1252", errors="replace")
    try:
        return "utf-8", line.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252", line.decode("cp1252", errors="replace")


@dataclass
class LineDecoder:
    """Decodes a text file line by line, each line as UTF-8 when it is valid UTF-8 and as
    Windows-1252 otherwise, so a UTF-8 export with a few Windows-1252 bytes (or the reverse) loses
    no character; it counts the lines read each way for the load's notes. Lines longer than the
    limit are refused with their number, so one huge field cannot be held whole."""

    name: str
    limits: Limits
    cp1252_lines: int = 0
    first_cp1252_line: int = 0
    utf8_non_ascii_lines: int = 0

    def lines(self, data: bytes) -> Iterator[str]:
        stream = io.BytesIO(data)
        if data.startswith(b"\xef\xbb\xbf"):
            stream.seek(3)
        number = 0
        while line := stream.readline(self.limits.max_line_bytes + 1):
            number += 1
            if len(line) > self.limits.max_line_bytes and not line.endswith(b"\n"):
                raise InputError(f"{self.name}: line {number:,} is longer than the "
                                 f"{self.limits.max_line_bytes / 1e6:,.1f} MB limit")
            yield self._decode(line, number)

    def _decode(self, line: bytes, number: int) -> str:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self.cp1252_lines += 1
            self.first_cp1252_line = self.first_cp1252_line or number
            return line.decode("cp1252", errors="replace")
        if not line.isascii():
            self.utf8_non_ascii_lines += 1
        return text

    def note(self) -> str | None:
        """What was assumed, when any line was not UTF-8."""
        if not self.cp1252_lines:
            return None
        if not self.utf8_non_ascii_lines:
            return "encoding: not UTF-8, read as Windows-1252"
        return (f"encoding: mixed: {self.cp1252_lines:,} line(s) are not valid UTF-8 and were read as Windows-1252 "
                f"(first: line {self.first_cp1252_line:,}); {self.utf8_non_ascii_lines:,} line(s) read as UTF-8")
