"""What the ERP's UBL-TR document says it is, read without trusting it.

The XML is the legal e-invoice that the dealer downloads under the invoice's number: a file
attached to the wrong record (easy in a connector's batch of thousands) would hand one
dealer another dealer's invoice. ``ubl_identity`` reads the document's own number
(``cbc:ID``) and ETTN (``cbc:UUID``), the root's direct children as UBL places them, so the
feed can refuse a document that names another invoice. The document must be well-formed
XML, and may not carry a document type declaration (UBL has none; a DTD is how entity
expansion and external entities get in), read by expat with no handler that fetches
anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.parsers import expat

from django.utils.translation import gettext as _

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


class UblProblem(ValueError):
    """The document cannot be read as XML, or declares a DTD: its message says so."""


@dataclass(frozen=True)
class UblIdentity:
    number: str | None  # the root's cbc:ID, when it has one
    ettn: str | None  # the root's cbc:UUID, when it has one


def ubl_identity(data: bytes) -> UblIdentity:
    found: dict[str, str] = {}
    depth = 0
    reading: list[str] = []  # the text of a cbc:ID / cbc:UUID under the root, being read
    current: str | None = None

    def start(name: str, _attributes) -> None:
        nonlocal depth, current
        depth += 1
        if depth == 2 and name in (f"{CBC} ID", f"{CBC} UUID") and name not in found:
            current, reading[:] = name, []

    def end(name: str) -> None:
        nonlocal depth, current
        if current == name and depth == 2:
            found[name] = "".join(reading).strip()
            current = None
        depth -= 1

    def text(data: str) -> None:
        if current is not None:
            reading.append(data)

    def doctype(*_args) -> None:
        raise UblProblem(_("The XML document may not declare a document type (DTD)."))

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise UblProblem(
            _("This is not a well-formed XML document (line %(line)s: %(error)s).")
            % {"line": exc.lineno, "error": expat.ErrorString(exc.code)}
        ) from None
    return UblIdentity(number=found.get(f"{CBC} ID"), ettn=found.get(f"{CBC} UUID"))
