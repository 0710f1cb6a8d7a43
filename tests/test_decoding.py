"""Decoding: the same texts saved in every encoding Japan has used read back as themselves, vendor
characters included, and a few bad bytes cost only themselves, with one warning."""

from __future__ import annotations

import codecs

import pytest
from click.testing import CliRunner

import search
from search.cli.main import main
from search.ingest.readers.decoding import decode

from .conftest import SEEDS

VENDOR_TEXT = "①②の番号で、㈱髙島屋と﨑山さんに連絡する。\n"
# The same text in eucJP-ms (NEC row 13 at 0xAD, IBM extensions after 0x8F) and in CP51932
# (NEC-selected IBM extensions in rows 89-92), which Python's euc_jp codec cannot read.
EUCJP_MS = (
    bytes.fromhex("ada1ada2")
    + "の番号で、".encode("euc_jp")
    + bytes.fromhex("adea8ff4fb")
    + "島屋と".encode("euc_jp")
    + bytes.fromhex("8ff4bd")
    + "山さんに連絡する。\n".encode("euc_jp")
)
CP51932 = EUCJP_MS.replace(bytes.fromhex("8ff4fb"), bytes.fromhex("fce2")).replace(
    bytes.fromhex("8ff4bd"), bytes.fromhex("f9f5")
)
SEED_TEXTS = {path.name: path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp932", "euc_jp", "iso2022_jp_ext"]


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", SEED_TEXTS)
def test_each_seed_in_each_encoding_reads_back_as_itself(name, encoding):
    text = SEED_TEXTS[name]
    if not encodable(text, encoding):
        # A seed holding a character the encoding lacks (a Korean name, an emoji) cannot be
        # saved in it: save what can be.
        text = text.encode(encoding, "ignore").decode(encoding)
    assert decode(text.encode(encoding)).text == text


@pytest.mark.parametrize(
    "data, encoding",
    [
        (VENDOR_TEXT.encode("utf-8"), "UTF-8"),
        (VENDOR_TEXT.encode("cp932"), "Shift_JIS (CP932)"),
        (EUCJP_MS, "EUC-JP"),
        (CP51932, "EUC-JP"),
    ],
)
def test_vendor_characters_read_right_in_every_encoding(data, encoding):
    decoded = decode(data)
    assert (decoded.text, decoded.encoding, decoded.bad_bytes) == (VENDOR_TEXT, encoding, 0)


@pytest.mark.parametrize(
    "data, warning",
    [
        (
            "一行目は正しい。\n二行目に壊れた字がある。".encode("cp932") + b"\x81",
            "1 byte not valid in Shift_JIS (CP932) replaced with U+FFFD (the first on line 2)",
        ),
        (
            "日本語の文章です。".encode() * 3 + b"\xff" + "caf\xe9".encode("latin-1") + b"\n",
            "2 bytes not valid in UTF-8 replaced with U+FFFD (the first on line 1)",
        ),
        (
            codecs.BOM_UTF8 + "北海道\n".encode() + b"\xc0\xaf\n",
            "2 bytes not valid in UTF-8 replaced with U+FFFD (the first on line 2)",
        ),
    ],
)
def test_a_few_bad_bytes_are_replaced_and_counted(data, warning):
    decoded = decode(data)
    assert decoded.warning() == warning
    assert "\ufffd" in decoded.text


def test_a_declared_charset_that_fits_is_used():
    assert decode("ｶﾀｶﾅ".encode("cp932"), declared="Shift_JIS").text == "ｶﾀｶﾅ"


def test_vendor_characters_are_searchable_in_an_euc_jp_file(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "legacy.txt").write_bytes(EUCJP_MS)
    (docs / "damaged.txt").write_bytes("高島屋の記録。\n".encode("cp932") * 20 + b"\x81")
    result = CliRunner().invoke(
        main, ["index", "--docs", str(docs), "--index", str(tmp_path / "ix")]
    )
    assert result.stderr == (
        "kensaku: damaged.txt: 1 byte not valid in Shift_JIS (CP932) replaced "
        "with U+FFFD (the first on line 21)\n"
    )
    assert "indexed 2 documents" in result.stdout
    hits = search.search("﨑山", tmp_path / "ix").hits
    assert [(hit.source, hit.text) for hit in hits] == [("legacy.txt", VENDOR_TEXT.strip())]
    # Sudachi normalizes 髙 to 高: either spelling finds both.
    assert {hit.source for hit in search.search("髙島屋", tmp_path / "ix").hits} == {
        "legacy.txt",
        "damaged.txt",
    }
    assert search.search("高島屋の記録", tmp_path / "ix").hits[0].source == "damaged.txt"
