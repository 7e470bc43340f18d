"""JSON and XML as GeoReport v2 writes them: a list of objects, or <root><item>…</item></root>."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from aiohttp import web

# root element and item element of each XML document, as in the spec's examples
ROOTS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
         "errors": ("errors", "error")}


def suffix_format(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def _xml_value(parent: ET.Element, key: str, value) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, list):  # attributes of a service definition, keywords
        for item in value:
            if isinstance(item, dict):
                sub = ET.SubElement(child, "attribute")
                for k, v in item.items():
                    _xml_value(sub, k, v)
            else:
                ET.SubElement(child, "value").text = str(item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def to_xml(root: str, item: str | None, items) -> bytes:
    top = ET.Element(root)
    for obj in (items if item else [items]):
        node = ET.SubElement(top, item) if item else top
        for key, value in obj.items():
            _xml_value(node, key, value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def render(fmt: str, kind: str, items, status: int = 200) -> web.Response:
    """`items`: a list of dicts (services, requests, errors) or one dict (a service definition)."""
    if fmt == "xml":
        if kind == "service_definition":
            body = to_xml("service_definition", None, items)
        else:
            body = to_xml(*ROOTS[kind], items)
        return web.Response(body=body, status=status, content_type="text/xml", charset="utf-8")
    return web.Response(text=json.dumps(items, ensure_ascii=False), status=status,
                        content_type="application/json", charset="utf-8")


def render_errors(fmt: str, status: int, description: str) -> web.Response:
    return render(fmt, "errors", [{"code": status, "description": description}], status=status)
