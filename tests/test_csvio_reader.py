"""open_csv: encoding, delimiter, header mapping, preview, physical line numbers."""

import csv
import io

import pytest

from partnerhub.csvio import errors
from partnerhub.csvio.chunks import iter_chunks
from partnerhub.csvio.columns import fold_header, guess_mapping
from partnerhub.csvio.errors import CsvError
from partnerhub.csvio.reader import open_csv, parse_chunk


def _open(data: bytes, **kwargs):
    return open_csv(io.BytesIO(data), **kwargs)


def _records(source):
    return [(line, cells) for line, cells, _code in source.iter_records()]


def test_utf8_comma_file_is_detected():
    source = _open("email,prénom\na@b.fr,Zoé\n".encode())
    assert (source.encoding, source.delimiter) == ("utf-8", ",")
    assert source.headers == ["email", "prénom"]
    assert source.preview() == [["a@b.fr", "Zoé"]]


def test_utf8_bom_is_skipped_and_reported():
    source = _open(b"\xef\xbb\xbfemail;nom\r\na@b.fr;L\xc3\xa9a\r\n")
    assert source.encoding == "utf-8-sig"
    assert source.headers == ["email", "nom"]
    assert _records(source) == [(2, ["a@b.fr", "Léa"])]


def test_windows_1252_is_detected_from_accents():
    source = _open("Courriel;Prénom\r\nx@y.fr;Hélène\r\n".encode("cp1252"))
    assert source.encoding == "cp1252"
    assert source.headers == ["Courriel", "Prénom"]
    assert _records(source) == [(2, ["x@y.fr", "Hélène"])]


def test_windows_1252_accent_far_into_the_file_is_still_detected():
    body = "".join(f"u{i}@x.fr;Nom{i}\r\n" for i in range(20_000))
    data = ("email;nom\r\n" + body + "z@x.fr;Gérard\r\n").encode("cp1252")
    assert len(data) > 200_000
    source = _open(data)
    assert source.encoding == "cp1252"
    assert _records(source)[-1] == (20_002, ["z@x.fr", "Gérard"])


def test_manual_encoding_override_is_used_and_checked():
    data = "email;nom\nx@y.fr;Hélène\n".encode("cp1252")
    assert _open(data, encoding="latin-1").encoding == "iso8859-1"
    with pytest.raises(CsvError) as caught:
        _open(data, encoding="utf-8")
    assert caught.value.code == errors.UNDECODABLE
    with pytest.raises(CsvError) as caught:
        _open(data, encoding="klingon")
    assert caught.value.code == errors.UNKNOWN_ENCODING


def test_utf16_excel_unicode_text_is_transcoded():
    data = "email\tprénom\r\nx@y.fr\tÉlodie\r\n".encode("utf-16")
    source = _open(data)
    assert (source.encoding, source.delimiter) == ("utf-16", "\t")
    assert _records(source) == [(2, ["x@y.fr", "Élodie"])]


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("email;nom;ville\na@b.fr;Dupont, Jean;Paris\n", ";"),
        ("email,nom,ville\na@b.fr,Dupont; Jean,Paris\n", ","),
        ("email\tnom\tville\na@b.fr\tDupont, Jean\tParis\n", "\t"),
        ('email,nom\n"a@b.fr","Dupont; Jean"\n', ","),
    ],
)
def test_delimiter_is_sniffed(text, delimiter):
    assert _open(text.encode()).delimiter == delimiter


def test_delimiter_override_and_bad_delimiter():
    data = b"email;nom\na@b.fr;X\n"
    assert _open(data, delimiter=",").headers == ["email;nom"]
    with pytest.raises(CsvError) as caught:
        _open(data, delimiter="|")
    assert caught.value.code == errors.BAD_DELIMITER


def test_quoted_fields_keep_delimiters_and_newlines_and_lines_stay_physical():
    data = (
        b"email;adresse;nom\r\n"
        b'a@b.fr;"1 rue X;\r\n75001 Paris";"Du ""Bo"" nt"\r\n'
        b"\r\n"
        b"c@d.fr;;Martin\r\n"
    )
    source = _open(data)
    assert _records(source) == [
        (2, ["a@b.fr", "1 rue X;\r\n75001 Paris", 'Du "Bo" nt']),
        (4, []),
        (5, ["c@d.fr", "", "Martin"]),
    ]


def test_old_mac_line_endings_are_records():
    source = _open(b"email,nom\ra@b.fr,X\rc@d.fr,Y\r")
    assert _records(source) == [(2, ["a@b.fr", "X"]), (3, ["c@d.fr", "Y"])]


def test_leading_blank_lines_before_header_are_skipped():
    source = _open(b"\n;;\nemail;nom\na@b.fr;X\n")
    assert source.headers == ["email", "nom"]
    assert _records(source) == [(4, ["a@b.fr", "X"])]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Adresse e-mail", "email"),
        ("COURRIEL", "email"),
        ("mél", "email"),
        ("Téléphone", "phone"),
        ("N° de portable", "phone"),
        ("tel", "phone"),
        ("Numéro", "phone"),
        ("mobile_phone", "phone"),
        ("Prénom", "first_name"),
        ("first-name", "first_name"),
        ("FirstName", "first_name"),
        ("  NOM ", "last_name"),
        ("Last_Name", "last_name"),
        ("nom de famille", "last_name"),
    ],
)
def test_header_synonyms_ignore_case_accents_spaces_dashes(header, field):
    assert guess_mapping(["x", header]) == {1: field}


def test_fold_header_keeps_letters_and_digits_only():
    assert fold_header(" Adresse E-Mail_(pro) ") == "adresseemailpro"


def test_best_phone_synonym_wins_and_unknown_columns_stay_attributes():
    text = "Téléphone;Ville;Portable;Email\n01 02 03 04 05;Lyon;0612345678;a@b.fr\n"
    source = _open(text.encode())
    assert source.mapping == {2: "phone", 3: "email"}
    assert source.attribute_names == ["Téléphone", "Ville", "Portable", "Email"]


def test_duplicate_and_empty_attribute_names_are_made_unique():
    source = _open(b"email;ville;ville;\na@b.fr;A;B;C\n")
    assert source.attribute_names == ["email", "ville", "ville_2", "column_4"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", errors.EMPTY_FILE),
        (b"  \r\n\r\n ", errors.EMPTY_FILE),
        (b"email;phone\r\n", errors.NO_DATA_ROWS),
        (b"email;phone", errors.NO_DATA_ROWS),
        (b"email;phone\n;\n\n", errors.NO_DATA_ROWS),
        (b"email\x00;ph\x00one\na\x00b\n", errors.BINARY_FILE),
        (bytes(range(256)) * 8, errors.BINARY_FILE),
        (b"PK\x03\x04\x14\x00\x06\x00", errors.SPREADSHEET_FILE),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", errors.SPREADSHEET_FILE),
        (b"jean@x.fr;0612345678\nmarc@y.fr;0698765432\n", errors.MISSING_HEADER),
        (b'"email;' + b"x" * 70_000 + b"\n", errors.HEADER_TOO_LONG),
        (b"email;" + b"h" * 300 + b"\na;b\n", errors.HEADER_TOO_LONG),
        (b"email,nom\na\x81\x8d\x90b,c\n", errors.UNKNOWN_ENCODING),
    ],
)
def test_whole_file_problems_raise_a_coded_error(data, code):
    with pytest.raises(CsvError) as caught:
        _open(data)
    assert caught.value.code == code
    assert str(caught.value.message) != code  # a real sentence, not the code


def test_preview_is_limited_and_skips_blank_rows():
    data = "email\n\n" + "\n".join(f"u{i}@x.fr" for i in range(30)) + "\n"
    source = _open(data.encode())
    assert source.preview(rows=3) == [["u0@x.fr"], ["u1@x.fr"], ["u2@x.fr"]]
    assert len(source.preview()) == 10


class _Pipe(io.RawIOBase):
    """A non-seekable stream, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_input_is_spooled():
    source = open_csv(io.BufferedReader(_Pipe(b"email\na@b.fr\n")))
    assert _records(source) == [(2, ["a@b.fr"])]


def test_file_opened_mid_way_is_read_from_its_position():
    stream = io.BytesIO(b"junk\nemail\na@b.fr\n")
    stream.seek(5)
    assert _records(open_csv(stream)) == [(2, ["a@b.fr"])]


def _reference(text: str, delimiter: str):
    """Whole-file csv.reader with physical start lines: what chunking must match."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out, done = [], 0
    for row in reader:
        out.append((done + 1, row))
        done = reader.line_num
    return out


TRICKY = (
    'a,"b\r\nc",d\n'
    'e,"f""g",h\r\n'
    'i,j"k,l\n'
    '"m"n,o,"p\n\nq"\r'
    "\n"
    's,"t,u",v\n'
    '"w""""x",y,z\r\n'
) * 40


@pytest.mark.parametrize("target", [1, 50, 333, 4096])
def test_chunks_cut_only_between_records(target):
    data = TRICKY.encode()
    blocks = [data[i : i + 700] for i in range(0, len(data), 700)]
    got = []
    for chunk in iter_chunks(blocks, ",", target_bytes=target):
        parsed = parse_chunk(chunk.data, "utf-8", ",", chunk.start_line)
        got.extend(zip(parsed.lines, parsed.rows, strict=True))
    assert got == _reference(TRICKY, ",")


def test_unclosed_quote_at_end_is_flagged_on_the_last_record():
    source = _open(b'email,nom\na@b.fr,X\nc@d.fr,"Y\nZ\n')
    records = list(source.iter_records())
    assert records[0] == (2, ["a@b.fr", "X"], None)
    assert records[-1][0] == 3
    assert records[-1][2] == errors.UNCLOSED_QUOTE


def test_nul_and_bad_bytes_late_in_the_file_become_row_codes():
    # Past the first 64 KiB, and far from the middle and tail samples.
    head = b"".join(b"u%05d@x.fr,N\n" % i for i in range(6000))
    tail = b"".join(b"v%05d@x.fr,N\n" % i for i in range(40000))
    bad = b"z@x.fr,A\x00B\n" + b"w@x.fr,\xff\xfe\n"
    source = _open(b"email,nom\n" + head + bad + tail)
    assert source.encoding == "utf-8"
    records = list(source.iter_records())
    assert records[6000:6003] == [
        (6002, ["z@x.fr", "A\x00B"], errors.NUL_BYTE),
        (6003, ["w@x.fr", "\udcff\udcfe"], errors.BAD_ENCODING),
        (6004, ["v00000@x.fr", "N"], None),
    ]


def test_field_larger_than_csv_limit_is_a_malformed_row_not_a_crash():
    data = b'email,nom\na@b.fr,"' + b"x" * 200_000 + b'"\nc@d.fr,Y\n'
    records = list(_open(data).iter_records())
    assert records[0][2] == errors.MALFORMED_ROW
    assert records[-1] == (3, ["c@d.fr", "Y"], None)
