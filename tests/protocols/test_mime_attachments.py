"""Finding parts again (attachment_bytes, inline_part) and making file names safe."""

import pytest

from mailbox.protocols.mime import attachment_bytes, inline_part, parse_message
from mailbox.protocols.mime_names import safe_filename
from tests.harness import messages

NESTED = (
    b"From: a@example.test\r\nSubject: Nested\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="o"\r\n\r\n'
    b'--o\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
    b"--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
    b"--a\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--a--\r\n"
    b"--o\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="a.zip"\r\n\r\nUEsFBg==\r\n--o--\r\n'
)


def test_part_ids_are_imap_section_numbers() -> None:
    message = parse_message(NESTED)

    assert message.text == "plain" and message.html == "<p>html</p>"
    [archive] = message.attachments
    assert archive.part_id == "2"
    assert attachment_bytes(NESTED, "1.1")[1] == b"plain"  # body parts can be fetched too
    assert attachment_bytes(NESTED, "1.2")[1] == b"<p>html</p>"
    assert attachment_bytes(NESTED, "2") == (archive, b"PK\x05\x06")


def test_a_message_that_is_not_multipart_has_one_part_numbered_1() -> None:
    raw = messages.plain_text()

    info, data = attachment_bytes(raw, "1")
    assert data.decode() == messages.PLAIN_BODY.replace("\n", "\r\n")
    assert info.part_id == "1" and info.content_type == "text/plain"


@pytest.mark.parametrize("part_id", ["0", "3", "1.3", "2.1", "", "x", "1.1.1"])
def test_an_unknown_part_id_raises_key_error(part_id: str) -> None:
    with pytest.raises(KeyError):
        attachment_bytes(NESTED, part_id)


@pytest.mark.parametrize("content_id", ["cid:nothing@example.test", "", "cid:", "<>"])
def test_an_unknown_content_id_raises_key_error(content_id: str) -> None:
    with pytest.raises(KeyError):
        inline_part(messages.inline_image(), content_id)


def test_unreadable_bytes_have_no_parts() -> None:
    with pytest.raises(KeyError):
        attachment_bytes(b"", "2")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/absolute/path.txt", "path.txt"),
        ("report\r\n.pdf", "report.pdf"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2066isolate\u2069.doc", "isolate.doc"),
        ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
        (".hidden", "hidden"),
        ("trailing dots...", "trailing dots"),
        ("Cafe\u0301.txt", "Café.txt"),  # composed (NFC)
        ("..", "part-3.pdf"),
        ("", "part-3.pdf"),
        (None, "part-3.pdf"),
    ],
)
def test_file_names_are_made_safe(name: str | None, safe: str) -> None:
    assert safe_filename(name, "3", "application/pdf") == safe


def test_long_file_names_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".pdf", "2", "application/pdf")

    assert len(name) == 200 and name.endswith("xx.pdf")
    assert len(safe_filename("x." + "y" * 500, "2", "application/pdf")) == 200
    assert len(safe_filename("z" * 500, "2", "application/pdf")) == 200


def test_a_nameless_part_is_named_after_its_type() -> None:
    assert safe_filename(None, "1.2", "image/png") == "part-1.2.png"
    assert safe_filename(None, "4", "application/x-unheard-of") == "part-4.bin"
