"""How a text file is decoded: the byte sniffing and the notes that say what was assumed.
"""
from __future__ import annotations


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
