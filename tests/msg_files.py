"""Outlook `.msg` files made here, as Outlook for Windows saves a message dragged out of it: an OLE compound file
(MS-CFB version 3, 512-byte sectors, small streams in the mini stream) holding the MAPI properties of MS-OXMSG
(`__properties_version1.0`, `__substg1.0_XXXXYYYY` streams, a named-property storage and one recipient).

olefile only reads compound files, so this writer builds them from the specification. Every stream here is
smaller than the 4,096-byte cutoff, so all of them live in the mini stream, as in a short real message.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

SECTOR, MINI = 512, 64
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
PT_LONG, PT_UNICODE = 0x0003, 0x001F


@dataclass
class Node:
    name: str
    data: bytes | None = None
    """A stream's bytes; None for a storage."""
    children: list[Node] = field(default_factory=list)


def _sort_key(node: Node) -> tuple[int, str]:
    """MS-CFB's order of siblings: shorter names first, then by upper-case name."""
    return len(node.name), node.name.upper()


def compound_file(root_children: list[Node]) -> bytes:
    root = Node("Root Entry", None, root_children)
    entries: list[Node] = []

    def number(node: Node) -> None:
        entries.append(node)
        for child in node.children:
            number(child)

    number(root)
    index = {id(node): i for i, node in enumerate(entries)}
    ministream = bytearray()
    minifat: list[int] = []
    start: dict[int, int] = {}
    for node in entries:
        if node.data is None or not node.data:
            continue
        first = len(minifat)
        count = math.ceil(len(node.data) / MINI)
        minifat += [first + i + 1 for i in range(count - 1)] + [END]
        start[id(node)] = first
        ministream += node.data + bytes(count * MINI - len(node.data))
    dir_sectors = math.ceil(len(entries) * 128 / SECTOR)
    minifat_sectors = math.ceil(len(minifat) * 4 / SECTOR)
    mini_sectors = math.ceil(len(ministream) / SECTOR)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < fat_sectors + dir_sectors + minifat_sectors + mini_sectors:
        fat_sectors += 1
    dir_start = fat_sectors
    minifat_start = dir_start + dir_sectors
    mini_start = minifat_start + minifat_sectors
    fat = [FATSECT] * fat_sectors
    for first, count in ((dir_start, dir_sectors), (minifat_start, minifat_sectors), (mini_start, mini_sectors)):
        fat += [first + i + 1 for i in range(count - 1)] + ([END] if count else [])
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))

    def tree(siblings: list[Node]) -> int:
        """The root of a balanced binary search tree of `siblings` (all black: readers do not check colours)."""
        if not siblings:
            return NOSTREAM
        ordered = sorted(siblings, key=_sort_key)
        middle = len(ordered) // 2
        node = ordered[middle]
        links[id(node)] = (tree(ordered[:middle]), tree(ordered[middle + 1:]))
        return index[id(node)]

    links: dict[int, tuple[int, int]] = {}
    child_of: dict[int, int] = {id(node): tree(node.children) for node in entries if node.data is None}
    directory = bytearray()
    for node in entries:
        name = node.name.encode("utf-16-le") + b"\x00\x00"
        kind = 5 if node is root else (1 if node.data is None else 2)
        left, right = links.get(id(node), (NOSTREAM, NOSTREAM))
        if node is root:
            first, size = (mini_start if ministream else END), len(ministream)
        elif node.data is None:
            first, size = 0, 0
        else:
            first, size = start.get(id(node), END), len(node.data)
        directory += (name.ljust(64, b"\x00") + struct.pack("<HBB3I", len(name), kind, 1, left, right,
                                                             child_of.get(id(node), NOSTREAM))
                      + bytes(16) + struct.pack("<I", 0) + bytes(16) + struct.pack("<IQ", first, size))
    directory += bytes(dir_sectors * SECTOR - len(directory))
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, fat_sectors, dir_start, 0,
                            4096, minifat_start if minifat else END, minifat_sectors, END, 0)
              + struct.pack("<109I", *([*range(fat_sectors)] + [FREE] * (109 - fat_sectors))))
    body = struct.pack(f"<{len(fat)}I", *fat) + directory
    body += struct.pack(f"<{len(minifat)}I", *minifat) + bytes(minifat_sectors * SECTOR - len(minifat) * 4)
    body += bytes(ministream) + bytes(mini_sectors * SECTOR - len(ministream))
    return header + body


def _properties(strings: dict[int, str], longs: dict[int, int], header: bytes) -> list[Node]:
    """The property stream (fixed values inline, strings by size) and one substorage stream per string."""
    table = bytearray(header)
    streams = []
    for prop, value in sorted(longs.items()):
        table += struct.pack("<IIiI", (prop << 16) | PT_LONG, 0x6, value, 0)
    for prop, text in sorted(strings.items()):
        data = text.encode("utf-16-le")  # the size counts the terminating null the stream leaves out (MS-OXMSG)
        table += struct.pack("<IIII", (prop << 16) | PT_UNICODE, 0x6, len(data) + 2, 0)
        streams.append(Node(f"__substg1.0_{prop:04X}{PT_UNICODE:04X}", data))
    return [Node("__properties_version1.0", bytes(table)), *streams]


def outlook_msg(path: Path, *, subject: str, sender_name: str, sender_smtp: str = "", sender_exchange: str = "",
                transport_headers: str = "", to: str = "dx-team@example.go.jp", body: str = "") -> Path:
    """A received message as Outlook saves it. An internal sender carries an Exchange (X.500) address in
    PR_SENDER_EMAIL_ADDRESS and the SMTP one in PR_SENDER_SMTP_ADDRESS; leave `sender_smtp` empty to keep only
    the transport headers, as mail from older servers has."""
    strings = {0x001A: "IPM.Note", 0x0037: subject, 0x0C1A: sender_name, 0x0042: sender_name, 0x1000: body}
    if sender_exchange:
        strings |= {0x0C1E: "EX", 0x0C1F: sender_exchange, 0x0064: "EX", 0x0065: sender_exchange}
    if sender_smtp:
        strings |= {0x5D01: sender_smtp, 0x5D02: sender_smtp}
        if not sender_exchange:
            strings |= {0x0C1E: "SMTP", 0x0C1F: sender_smtp}
    if transport_headers:
        strings[0x007D] = transport_headers
    top = struct.pack("<8sIIII8s", bytes(8), 1, 0, 1, 0, bytes(8))
    recipient = Node("__recip_version1.0_#00000000", None, _properties(
        {0x3001: to, 0x3003: to, 0x3002: "SMTP", 0x39FE: to}, {0x0C15: 1, 0x3000: 0}, bytes(8)))
    named = Node("__nameid_version1.0", None, [Node(f"__substg1.0_{n:04X}0102", b"") for n in (2, 3, 4)])
    path.write_bytes(compound_file([*_properties(strings, {0x0E07: 1}, top), named, recipient]))
    return path
